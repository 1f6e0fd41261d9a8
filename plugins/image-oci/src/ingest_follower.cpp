#include "ingest_follower.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace image_oci {

void IngestFollower::grew(int64_t offset) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (offset < offset_) broken_ = true;  // started over: what was read may not be the blob
        offset_ = offset;
    }
    cv_.notify_all();
}

void IngestFollower::finish(bool verified) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        done_ = true;
        verified_ = verified;
    }
    cv_.notify_all();
}

ssize_t IngestFollower::read(char* buf, size_t n) {
    if (!fd_.valid()) {
        // Opened on first read, after the download began (it makes the file).
        // Gone already means committed and renamed: the caller unpacks the blob.
        fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd_.valid()) return -1;
    }
    for (;;) {
        bool finished;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return broken_ || done_ || offset_ > pos_; });
            if (broken_ || (done_ && !verified_)) return -1;
            finished = done_;
        }
        ssize_t r = ::pread(fd_.get(), buf, n, pos_);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r > 0) {
            pos_ += r;
            return r;
        }
        if (finished) return 0;  // the end, read after the download ended verified
    }
}

}  // namespace image_oci
