// A log's bound on the real file system: the oldest bytes freed as a hole,
// readers starting at the first whole line kept, the index compacted, the
// writer (without O_APPEND, as a runtime may open it) never disturbed.
#include <ctr/sys/log_bound.h>
#include <ctr/sys/log_index.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace ctr::sys;

namespace {

std::string line_of(int i) {
    return "line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
}

std::string read_from(const std::filesystem::path& p, long long at) {
    std::ifstream in(p, std::ios::binary);
    in.seekg(at);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("a bounded log keeps about max-size * max-file bytes on disk, whole lines for readers, marks of what it keeps") {
    ctr::test::ScratchDir d;
    const auto log = d.path() / "stdout.log";
    // Not O_APPEND: the writer's offset must stay valid across the holes.
    int w = ::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(w >= 0);
    ctr_log_file f;
    REQUIRE(ctr_log_open(&f, log.c_str(), 0) == 0);
    const ctr_log_limit limit{64 * 1024, 2};
    std::string written;
    int i = 0;
    for (; i < 20000; ++i) {
        std::string l = line_of(i);
        REQUIRE(::write(w, l.data(), l.size()) == static_cast<ssize_t>(l.size()));
        written += l;
        if (i % 50 == 49) ctr_log_grew(&f, &limit, 1000 + i);
    }
    ctr_log_grew(&f, &limit, 1000 + i);
    ::close(w);

    struct stat st {};
    REQUIRE(::stat(log.c_str(), &st) == 0);
    CHECK(st.st_size == static_cast<off_t>(written.size()));  // offsets never move
    const long long on_disk = static_cast<long long>(st.st_blocks) * 512;
    CHECK(on_disk <= 2 * 64 * 1024 + 8192);
    CHECK(f.freed > 0);

    const int64_t start = log_start(log);
    CHECK(start >= f.freed);
    const std::string kept = read_from(log, start);
    CHECK(kept.size() >= 64 * 1024);  // at least the last max-size
    CHECK(kept.size() <= 2 * 64 * 1024);
    CHECK(kept.rfind("line ", 0) == 0);                  // a whole line first
    CHECK(written.compare(written.size() - kept.size(), kept.size(), kept) == 0);  // exactly the newest bytes

    // The index keeps one mark before what is kept, and those after it.
    auto idx = LogIndex::read(log);
    CHECK(idx.time_at(start) > 0);
    std::ifstream in(LogIndex::index_of(log));
    long long offset = 0, ns = 0;
    int before = 0, lines = 0;
    while (in >> offset >> ns) {
        ++lines;
        before += offset < f.freed;
    }
    CHECK(before == 1);
    CHECK(lines < 20000 / 50 / 4);

    // A new watcher (the shim, after the reaper) knows what was freed.
    ctr_log_file again;
    REQUIRE(ctr_log_open(&again, log.c_str(), st.st_size) == 0);
    CHECK(again.freed == f.freed);
    ctr_log_close(&again);
    ctr_log_close(&f);
}

TEST_CASE("an unbounded log is only marked; a log without holes is read from 0") {
    ctr::test::ScratchDir d;
    const auto log = d.path() / "stderr.log";
    {
        std::ofstream out(log);
        for (int i = 0; i < 5000; ++i) out << line_of(i);
    }
    ctr_log_file f;
    REQUIRE(ctr_log_open(&f, log.c_str(), 0) == 0);
    const ctr_log_limit none{0, 1};
    ctr_log_grew(&f, &none, 42);
    CHECK(f.freed == 0);
    CHECK(log_start(log) == 0);
    CHECK(LogIndex::read(log).time_at(0) == 42);
    // max-file=1: past max-size, all but the last block goes, as Docker
    // truncates its one file.
    const ctr_log_limit one{16 * 1024, 1};
    {
        std::ofstream out(log, std::ios::app);
        out << line_of(5000);
    }
    ctr_log_grew(&f, &one, 43);
    struct stat st {};
    REQUIRE(::stat(log.c_str(), &st) == 0);
    CHECK(f.freed == st.st_size / 4096 * 4096);
    CHECK(read_from(log, log_start(log)).find("line 5000 ") != std::string::npos);
    ctr_log_close(&f);
}
