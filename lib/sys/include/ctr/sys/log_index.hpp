// When the bytes of a container's log file were written, for `logs
// --timestamps` and `--since`. Beside each log file FILE, FILE.idx holds
// lines "OFFSET UNIX_NS": the bytes from OFFSET on were written at UNIX_NS
// (until the next line's OFFSET). The shim appends them as the file grows
// (shim/log_watcher.hpp); the daemon reads them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ctr::sys {

struct LogMark {
    int64_t offset = 0;
    int64_t unix_ns = 0;
};

// Appends one mark to an open FILE.idx (O_APPEND: one write per line).
void append_mark(int fd, LogMark mark);

class LogIndex {
public:
    // Reads FILE.idx for `log`; a missing or partly written index gives the marks it has.
    static LogIndex read(const std::filesystem::path& log);
    // Reads only what was appended to FILE.idx since the last read: a log
    // followed for hours is not read again from its start for each chunk.
    void refresh();
    static std::filesystem::path index_of(const std::filesystem::path& log) { return log.string() + ".idx"; }

    // When the byte at `offset` was written; 0 when no mark covers it.
    int64_t time_at(int64_t offset) const;
    // The offset of the first byte written at or after `unix_ns`; -1 when none was.
    int64_t first_offset_since(int64_t unix_ns) const;
    bool empty() const { return marks_.empty(); }

private:
    std::filesystem::path index_;
    uint64_t inode_ = 0;   // of the index read so far
    int64_t read_to_ = 0;  // bytes of the index consumed (whole lines only)
    std::vector<LogMark> marks_;  // offsets ascending
};

// Where a reader of `log` starts: 0, or past the bytes its bound freed
// (sys/log_bound.h), at the first whole line kept.
int64_t log_start(const std::filesystem::path& log);

// `logs --timestamps`: each line of a log's bytes, read chunk by chunk,
// behind the time its first byte was written ("2026-...Z "); `fallback_ns`
// for bytes no mark covers (written before marks were kept).
class LineStamper {
public:
    LineStamper(const std::filesystem::path& log, int64_t fallback_ns) : index_(LogIndex::read(log)), fallback_ns_(fallback_ns) {}
    // `chunk`: the log's bytes from `offset` on, following the last chunk's.
    std::string stamp(const std::string& chunk, int64_t offset);

private:
    LogIndex index_;
    int64_t fallback_ns_;
    bool line_start_ = true;
};

// "2026-11-28T16:14:17.123456789Z", as Docker prints log timestamps.
std::string rfc3339_nano(int64_t unix_ns);

}  // namespace ctr::sys
