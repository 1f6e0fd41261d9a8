#include "content_store.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace image_oci {

namespace fs = std::filesystem;

namespace {
ctr::Error io_error(const std::string& op, const fs::path& p) {
    int e = errno;
    return ctr::make_error(e == ENOSPC ? CTR_E_RESOURCE_EXHAUSTED : CTR_E_INTERNAL,
                           op + " \"" + p.string() + "\": " + std::strerror(e));
}

}  // namespace

ctr::Status ContentStore::init() const {
    std::error_code ec;
    fs::create_directories(root_ / "blobs/sha256", ec);
    if (!ec) fs::create_directories(root_ / "ingest", ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "create content store \"" + root_.string() + "\": " + ec.message());
    return ctr::ok();
}

fs::path ContentStore::blob_path(const std::string& digest) const { return root_ / "blobs/sha256" / digest_hex(digest); }

bool ContentStore::has(const std::string& digest) const {
    std::error_code ec;
    return check_digest(digest) && fs::exists(blob_path(digest), ec);
}

ctr::Result<std::string> ContentStore::read(const std::string& digest, int64_t max_size) const {
    CTR_TRY_STATUS(check_digest(digest));
    auto p = blob_path(digest);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ctr::make_error(CTR_E_NOT_FOUND, "blob " + digest + " is not in the content store");
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
        if (static_cast<int64_t>(out.size()) > max_size) {
            ::close(fd);
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "blob " + digest + " is larger than " + std::to_string(max_size) + " bytes");
        }
    }
    ::close(fd);
    return out;
}

ctr::Status ContentStore::put(const std::string& digest, const std::string& data) const {
    CTR_TRY_STATUS(check_digest(digest));
    if (sha256_of(data) != digest) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "digest mismatch for " + digest);
    if (has(digest)) return ctr::ok();
    auto ingest = CTR_TRY(begin(digest));
    if (!ingest) return ctr::ok();
    CTR_TRY_STATUS(ingest->restart());
    CTR_TRY_STATUS(ingest->append(data.data(), data.size()));
    return ingest->commit(static_cast<int64_t>(data.size()));
}

ctr::Result<std::unique_ptr<Ingest>> ContentStore::begin(const std::string& digest) const {
    CTR_TRY_STATUS(check_digest(digest));
    auto p = root_ / "ingest" / digest_hex(digest);
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("open ingest", p);
    while (::flock(fd, LOCK_EX) != 0) {  // another pull of this blob: wait for it
        if (errno != EINTR) {
            ::close(fd);
            return io_error("lock ingest", p);
        }
    }
    if (has(digest)) {
        // It finished while we waited, or just before our open, which then
        // made a new, empty ingest file: nothing is left to resume, so the
        // path goes (with the lock held, no writer can be using it).
        ::unlink(p.c_str());
        ::close(fd);
        return std::unique_ptr<Ingest>();
    }
    std::unique_ptr<Ingest> in(new Ingest(*this, digest, fd));
    // Resume: hash what an interrupted pull left, and continue after it.
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        in->hash_->update(buf, static_cast<size_t>(n));
        in->offset_ += n;
    }
    if (n < 0) return io_error("read ingest", p);
    return in;
}

ctr::Status ContentStore::remove(const std::string& digest) const {
    CTR_TRY_STATUS(check_digest(digest));
    std::error_code ec;
    fs::remove(blob_path(digest), ec);
    return ctr::ok();
}

Ingest::Ingest(const ContentStore& store, std::string digest, int fd) : store_(store), digest_(std::move(digest)), fd_(fd) {}

Ingest::~Ingest() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; a partial file stays for a resume
}

ctr::Status Ingest::append(const char* data, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = ::write(fd_, data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_error("write ingest", store_.root_ / "ingest" / digest_hex(digest_));
        done += static_cast<size_t>(n);
    }
    hash_->update(data, len);
    offset_ += static_cast<int64_t>(len);
    return ctr::ok();
}

ctr::Status Ingest::restart() {
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0)
        return io_error("truncate ingest", store_.root_ / "ingest" / digest_hex(digest_));
    hash_ = std::make_unique<Sha256>();
    offset_ = 0;
    return ctr::ok();
}

ctr::Status Ingest::commit(std::optional<int64_t> expected_size) {
    auto ingest_path = store_.root_ / "ingest" / digest_hex(digest_);
    if (expected_size && *expected_size != offset_) {
        auto st = ctr::make_error(CTR_E_INVALID_ARGUMENT, "size mismatch for " + digest_ + ": got " + std::to_string(offset_) +
                                                              " bytes, want " + std::to_string(*expected_size));
        if (offset_ > *expected_size) (void)restart();  // too long cannot be resumed
        return st;
    }
    std::string got = hash_->digest();
    if (got != digest_) {
        (void)restart();
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "digest mismatch: got " + got + ", want " + digest_);
    }
    // Renamed into place, not flushed: a crash of any process leaves the blob
    // whole or absent. The kernel writes it back in its own time, as it does
    // the snapshot unpacked from it; a flush here put the disk's write speed
    // on the path of every pull (docs/images.md, "Durability").
    auto target = store_.blob_path(digest_);
    if (::rename(ingest_path.c_str(), target.c_str()) != 0) return io_error("commit blob", target);
    ::fchmod(fd_, 0444);
    return ctr::ok();
}

}  // namespace image_oci
