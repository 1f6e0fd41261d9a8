// cp's placement rules, and tar extraction that treats its stream as hostile.
#include "copy/copy_rules.hpp"
#include "copy/tar_tree.hpp"
#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <sys/socket.h>
#include <unistd.h>

using namespace ctr::copy;
namespace fs = std::filesystem;

TEST_CASE("placement: Docker's rules for files and directories") {
    struct Case {
        Kind src;
        const char* src_path;
        Kind dest;
        const char* dest_path;
        const char* want;  // the placed path, or "!" + a piece of the error
        bool onto_dir;
    };
    const Case cases[] = {
        {Kind::file, "/etc/hosts", Kind::missing, "out", "out", false},
        {Kind::file, "/etc/hosts", Kind::dir, "out", "out/hosts", false},
        {Kind::file, "/etc/hosts", Kind::dir, "/", "/hosts", false},
        {Kind::file, "/etc/hosts", Kind::file, "out", "out", false},
        {Kind::file, "/etc/hosts", Kind::missing, "out/", "!destination directory \"out/\" does not exist", false},
        {Kind::file, "/etc/hosts/", Kind::dir, "out", "!not a directory", false},
        {Kind::file, "/etc/hosts", Kind::file, "out/", "!not a directory", false},
        {Kind::symlink, "/etc/link", Kind::dir, "out", "out/link", false},
        {Kind::dir, "/etc", Kind::missing, "out", "out", false},
        {Kind::dir, "/etc/", Kind::missing, "out/", "out", false},
        {Kind::dir, "/etc", Kind::dir, "out", "out/etc", false},
        {Kind::dir, "/etc/.", Kind::dir, "out", "out", true},
        {Kind::dir, "/", Kind::dir, "out", "out", true},
        {Kind::dir, "/etc", Kind::file, "out", "!cannot copy a directory onto the file \"out\"", false},
        {Kind::missing, "/nope", Kind::dir, "out", "!no such file or directory", false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.src_path);
        CAPTURE(c.dest_path);
        auto p = place(c.src, c.src_path, c.dest, c.dest_path);
        if (c.want[0] == '!') {
            REQUIRE_FALSE(p);
            CHECK(p.error().message.find(c.want + 1) != std::string::npos);
        } else {
            REQUIRE(p);
            CHECK(p->path == c.want);
            CHECK(p->onto_dir == c.onto_dir);
        }
    }
    CHECK(base_name("a/b/.") == "b");
    CHECK(base_name("a/b/") == "b");
    CHECK(base_name("/") == "");
}

namespace {

std::string slurp(const fs::path& p) {
    auto r = ctr::sys::read_file(p);
    return r ? *r : "<missing>";
}

struct Item {
    const char* name;
    int type;             // AE_IFREG, AE_IFDIR, AE_IFLNK
    const char* content;  // data, or a symlink's target
    const char* hardlink = nullptr;
};

// A tar in memory, fed to extract_tree through a socket.
ctr::Status extract(const std::vector<Item>& items, const ExtractOptions& o) {
    std::string tar;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &tar, nullptr,
        [](archive*, void* p, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(p)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& it : items) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, it.name);
        archive_entry_set_filetype(e, static_cast<unsigned>(it.type));
        archive_entry_set_perm(e, it.type == AE_IFDIR ? 0755 : 0644);
        if (it.hardlink) archive_entry_set_hardlink(e, it.hardlink);
        else if (it.type == AE_IFLNK) archive_entry_set_symlink(e, it.content);
        else if (it.type == AE_IFREG) archive_entry_set_size(e, static_cast<la_int64_t>(strlen(it.content)));
        archive_write_header(a, e);
        if (it.type == AE_IFREG && !it.hardlink) archive_write_data(a, it.content, strlen(it.content));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    REQUIRE(tar.size() < 200000);  // fits the socket's buffer
    REQUIRE(::write(sv[1], tar.data(), tar.size()) == static_cast<ssize_t>(tar.size()));
    ::close(sv[1]);
    auto st = extract_tree(sv[0], o);
    ::close(sv[0]);
    return st;
}

}  // namespace

TEST_CASE("extraction places the tree and refuses names and links that leave the destination") {
    ctr::test::ScratchDir d;
    fs::create_directories(d.path() / "dest");
    fs::create_directories(d.path() / "outside");
    const std::string dest = (d.path() / "dest").string();
    const fs::path cwd = fs::current_path();

    ExtractOptions o;
    o.src = "/srv/tree";
    o.dest = dest;
    REQUIRE(extract({{".", AE_IFDIR, ""}, {"./sub", AE_IFDIR, ""}, {"./sub/f", AE_IFREG, "data"}, {"./hl", AE_IFREG, "", "./sub/f"}}, o));
    CHECK(slurp(d.path() / "dest/tree/sub/f") == "data");
    CHECK(fs::equivalent(d.path() / "dest/tree/hl", d.path() / "dest/tree/sub/f"));
    CHECK(fs::current_path() == cwd);  // the working directory is restored

    // ".." and absolute names, as entries and as hard link targets.
    auto dotdot = extract({{".", AE_IFDIR, ""}, {"./../../outside/x", AE_IFREG, "bad"}}, o);
    CHECK_FALSE(dotdot);
    CHECK(dotdot.error().message.find("unsafe name") != std::string::npos);
    auto absolute = extract({{".", AE_IFDIR, ""}, {"/etc/x", AE_IFREG, "bad"}}, o);
    CHECK_FALSE(absolute);
    auto link_out = extract({{".", AE_IFDIR, ""}, {"./h", AE_IFREG, "", "../outside/x"}}, o);
    CHECK_FALSE(link_out);
    // A symlink in the stream, then a file written through it.
    auto through = extract({{".", AE_IFDIR, ""}, {"./esc", AE_IFLNK, (d.path() / "outside").c_str()}, {"./esc/x", AE_IFREG, "bad"}}, o);
    CHECK_FALSE(through);
    CHECK(fs::is_empty(d.path() / "outside"));
    CHECK(fs::current_path() == cwd);

    // The top entry must come first.
    auto no_top = extract({{"./f", AE_IFREG, "x"}}, o);
    CHECK_FALSE(no_top);
    CHECK(no_top.error().message.find("top entry") != std::string::npos);

    // raw: any names, under an existing directory only.
    ExtractOptions raw;
    raw.raw = true;
    raw.dest = dest;
    REQUIRE(extract({{"plain", AE_IFDIR, ""}, {"plain/f", AE_IFREG, "raw"}}, raw));
    CHECK(slurp(d.path() / "dest/plain/f") == "raw");
    raw.dest = (d.path() / "absent").string();
    CHECK_FALSE(extract({{"f", AE_IFREG, "x"}}, raw));
    CHECK_FALSE(fs::exists(d.path() / "absent"));
}

TEST_CASE("write_tree names the top and what is below it, and streams symlinks as links") {
    ctr::test::ScratchDir d;
    fs::create_directories(d.path() / "t/sub");
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "t/sub/f", "x"));
    fs::create_symlink("/etc/passwd", d.path() / "t/link");
    std::string tar;
    WriteOptions o;
    o.prefix = "top";
    REQUIRE(write_tree(d.path() / "t/", o, [&](std::string_view s) {
        tar += s;
        return true;
    }));
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    REQUIRE(archive_read_open_memory(a, tar.data(), tar.size()) == ARCHIVE_OK);
    std::map<std::string, int> seen;
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) seen[archive_entry_pathname(e)] = static_cast<int>(archive_entry_filetype(e));
    archive_read_free(a);
    CHECK(seen.size() == 4);
    CHECK(seen["top/"] == AE_IFDIR);  // tar marks directories with a slash
    CHECK(seen["top/sub/"] == AE_IFDIR);
    CHECK(seen["top/sub/f"] == AE_IFREG);
    CHECK(seen["top/link"] == AE_IFLNK);
}
