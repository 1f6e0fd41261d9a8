#include <ctr/sys/log_index.hpp>

#include <ctr/sys/log_bound.h>
#include <ctr/sys/unique_fd.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctr::sys {

void append_mark(int fd, LogMark m) {
    char line[64];
    int n = std::snprintf(line, sizeof line, "%lld %lld\n", static_cast<long long>(m.offset), static_cast<long long>(m.unix_ns));
    if (n > 0) [[maybe_unused]] auto w = ::write(fd, line, static_cast<size_t>(n));
}

LogIndex LogIndex::read(const std::filesystem::path& log) {
    LogIndex idx;
    idx.index_ = index_of(log);
    idx.refresh();
    return idx;
}

void LogIndex::refresh() {
    // Freeing a log's oldest bytes renames a shorter index over this one
    // (sys/log_bound.h): a new file is read from its start.
    struct stat st {};
    if (::stat(index_.c_str(), &st) == 0 && st.st_ino != inode_) {
        inode_ = st.st_ino;
        read_to_ = 0;
        marks_.clear();
    }
    std::ifstream in(index_, std::ios::binary);
    if (!in || !in.seekg(read_to_)) return;
    std::string line;
    // Whole lines only: one being written now is read next time.
    while (std::getline(in, line) && !in.eof()) {
        long long offset = 0, ns = 0;
        if (std::sscanf(line.c_str(), "%lld %lld", &offset, &ns) != 2) return;  // a line cut short by a crash
        // Marks only move forward.
        if (!marks_.empty() && offset < marks_.back().offset) return;
        marks_.push_back({offset, ns});
        read_to_ += static_cast<int64_t>(line.size()) + 1;
    }
}

int64_t LogIndex::time_at(int64_t offset) const {
    auto it = std::upper_bound(marks_.begin(), marks_.end(), offset, [](int64_t o, const LogMark& m) { return o < m.offset; });
    if (it == marks_.begin()) return 0;
    return std::prev(it)->unix_ns;
}

int64_t LogIndex::first_offset_since(int64_t unix_ns) const {
    for (const auto& m : marks_)
        if (m.unix_ns >= unix_ns) return m.offset;
    return -1;
}

int64_t log_start(const std::filesystem::path& log) {
    UniqueFd fd(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
    return fd.valid() ? ctr_log_start(fd.get()) : 0;
}

std::string LineStamper::stamp(const std::string& chunk, int64_t offset) {
    index_.refresh();
    std::string out;
    for (size_t i = 0; i < chunk.size(); ++i) {
        if (line_start_) {
            int64_t t = index_.time_at(offset + static_cast<int64_t>(i));
            out += rfc3339_nano(t ? t : fallback_ns_) + " ";
            line_start_ = false;
        }
        out += chunk[i];
        if (chunk[i] == '\n') line_start_ = true;
    }
    return out;
}

std::string rfc3339_nano(int64_t unix_ns) {
    time_t secs = static_cast<time_t>(unix_ns / 1000000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<long long>(unix_ns % 1000000000));
    return buf;
}

}  // namespace ctr::sys
