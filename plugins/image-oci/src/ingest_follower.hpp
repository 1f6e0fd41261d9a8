// IngestFollower: reads a blob's ingest file while its download appends to
// it, so that a layer unpacks as it arrives instead of after. The download
// says how far it got (grew) and how it ended (finish); the unpacker reads
// (read, an unpack_stream ReadFn) and blocks until there is more.
//
// The snapshot made this way is kept only if the download then verified the
// blob's digest and the unpack the layer's diff_id: a download that starts
// over, fails or sends other bytes makes the reader fail, and the caller
// unpacks the stored blob instead.
#pragma once

#include <ctr/sys/unique_fd.hpp>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <sys/types.h>

namespace image_oci {

class IngestFollower {
public:
    explicit IngestFollower(std::filesystem::path ingest) : path_(std::move(ingest)) {}

    void grew(int64_t offset);  // from the download: the file holds `offset` bytes
    void finish(bool verified);  // from the download, once: the blob is in the store, or will not be
    ssize_t read(char* buf, size_t n);  // from the unpacker: bytes, 0 at the verified end, -1 otherwise

private:
    std::filesystem::path path_;
    ctr::sys::UniqueFd fd_;
    int64_t pos_ = 0;  // the reader's alone
    std::mutex mu_;
    std::condition_variable cv_;
    int64_t offset_ = 0;
    bool done_ = false, verified_ = false, broken_ = false;
};

}  // namespace image_oci
