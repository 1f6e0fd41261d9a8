// The unpacker against well-formed and hostile layers, built here with
// libarchive. Needs root (ownership, device nodes, trusted xattrs).
#include "digest.hpp"
#include "unpack.hpp"

#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace image_oci;
namespace fs = std::filesystem;

namespace {

struct Entry {
    std::string path;
    mode_t type = AE_IFREG;
    mode_t perm = 0644;
    std::string data;       // file content, or symlink / hardlink target
    bool hardlink = false;
    int uid = 0, gid = 0;
    std::string xattr_name, xattr_value;
};

// A layer: tar bytes, optionally compressed. Returns the uncompressed tar too.
std::string make_tar(const std::vector<Entry>& entries, Compression c, std::string* plain = nullptr) {
    auto write = [&](Compression comp) {
        std::vector<char> out(16 << 20);
        size_t used = 0;
        archive* a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (comp == Compression::gzip) archive_write_add_filter_gzip(a);
        if (comp == Compression::zstd) archive_write_add_filter_zstd(a);
        archive_write_set_bytes_in_last_block(a, 1);
        REQUIRE(archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK);
        for (const auto& e : entries) {
            archive_entry* ae = archive_entry_new();
            archive_entry_set_pathname(ae, e.path.c_str());
            archive_entry_set_uid(ae, e.uid);
            archive_entry_set_gid(ae, e.gid);
            archive_entry_set_mtime(ae, 1700000000, 0);
            if (e.hardlink) {
                archive_entry_set_hardlink(ae, e.data.c_str());
                archive_entry_set_size(ae, 0);
            } else {
                archive_entry_set_filetype(ae, e.type);
                archive_entry_set_perm(ae, e.perm);
                if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.data.c_str());
                if (e.type == AE_IFCHR) archive_entry_set_rdev(ae, makedev(1, 3));
                archive_entry_set_size(ae, e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
            }
            if (!e.xattr_name.empty()) archive_entry_xattr_add_entry(ae, e.xattr_name.c_str(), e.xattr_value.data(), e.xattr_value.size());
            REQUIRE(archive_write_header(a, ae) == ARCHIVE_OK);
            if (!e.hardlink && e.type == AE_IFREG && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
            archive_entry_free(ae);
        }
        archive_write_close(a);
        archive_write_free(a);
        return std::string(out.data(), used);
    };
    if (plain) *plain = write(Compression::none);
    return write(c);
}

struct Layer {
    ctr::test::ScratchDir dir;
    fs::path target() const { return dir.path() / "fs"; }
    ctr::Result<UnpackResult> unpack(const std::string& bytes, Compression c, int64_t max_bytes = kNoLayerLimit) {
        fs::create_directories(target());
        auto blob = dir.path() / "blob";
        REQUIRE(ctr::sys::write_file_atomic(blob, bytes));
        return unpack_layer(blob, c, target(), max_bytes);
    }
};

}  // namespace

TEST_CASE("a layer that expands past the limit is refused, however well it compresses (row 19)" * CTR_NEEDS_ROOT) {
    // 4 MiB of zeros: a few KiB of gzip.
    std::vector<Entry> bomb = {{"zeros", AE_IFREG, 0644, std::string(4 << 20, '\0')}};
    std::string bytes = make_tar(bomb, Compression::gzip);
    CHECK(bytes.size() < 64 * 1024);
    Layer l;
    auto r = l.unpack(bytes, Compression::gzip, 1 << 20);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == CTR_E_RESOURCE_EXHAUSTED);
    CHECK(r.error().message.find("expands past 1048576 bytes") != std::string::npos);
    Layer ok_layer;
    CHECK(ok_layer.unpack(bytes, Compression::gzip, 8 << 20).has_value());  // under the limit it is a sparse file
}

TEST_CASE("files, dirs, links, devices, owners, modes and xattrs are kept; diff_id is the tar's digest" * CTR_NEEDS_ROOT) {
    std::vector<Entry> entries = {
        {"bin/", AE_IFDIR, 0755},
        {"bin/tool", AE_IFREG, 04755, "#!/bin/sh\n", false, 0, 0, "user.origin", "test"},
        {"home/", AE_IFDIR, 0700, "", false, 1000, 1000},
        {"home/notes", AE_IFREG, 0600, "notes", false, 1000, 1000},
        {"link", AE_IFLNK, 0777, "bin/tool"},
        {"bin/tool2", AE_IFREG, 0, "bin/tool", true},
        {"dev/null", AE_IFCHR, 0666},
        {"fifo", AE_IFIFO, 0600},
    };
    for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
        CAPTURE(static_cast<int>(c));
        std::string plain;
        std::string bytes = make_tar(entries, c, &plain);
        Layer l;
        auto r = l.unpack(bytes, c);
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
        CHECK(r->diff_id == sha256_of(plain));
        struct stat st {};
        REQUIRE(::stat((l.target() / "bin/tool").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 04755);
        REQUIRE(::stat((l.target() / "home/notes").c_str(), &st) == 0);
        CHECK(st.st_uid == 1000);
        CHECK(st.st_gid == 1000);
        CHECK(st.st_mtime == 1700000000);
        CHECK(fs::read_symlink(l.target() / "link") == "bin/tool");
        struct stat a {}, b {};
        ::stat((l.target() / "bin/tool").c_str(), &a);
        ::stat((l.target() / "bin/tool2").c_str(), &b);
        CHECK(a.st_ino == b.st_ino);
        REQUIRE(::lstat((l.target() / "dev/null").c_str(), &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK(st.st_rdev == makedev(1, 3));
        CHECK(fs::is_fifo(l.target() / "fifo"));
        char value[16] = {};
        CHECK(::getxattr((l.target() / "bin/tool").c_str(), "user.origin", value, sizeof value) == 4);
        CHECK(std::string(value) == "test");
        CHECK(*ctr::sys::read_file(l.target() / "home/notes") == "notes");
    }
}

TEST_CASE("whiteouts become overlayfs whiteouts; opaque directories get the overlay xattr" * CTR_NEEDS_ROOT) {
    Layer l;
    auto r = l.unpack(make_tar({{"etc/", AE_IFDIR, 0755}, {"etc/.wh.gone", AE_IFREG, 0644}, {"opt/", AE_IFDIR, 0755},
                                {"opt/.wh..wh..opq", AE_IFREG, 0644}, {"opt/new", AE_IFREG, 0644, "n"}},
                               Compression::none),
                      Compression::none);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    struct stat st {};
    REQUIRE(::lstat((l.target() / "etc/gone").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == makedev(0, 0));
    CHECK_FALSE(fs::exists(l.target() / "etc/.wh.gone"));
    char v[4] = {};
    CHECK(::getxattr((l.target() / "opt").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
    CHECK(v[0] == 'y');
    CHECK(fs::exists(l.target() / "opt/new"));
}

TEST_CASE("hostile layers cannot touch anything outside their target" * CTR_NEEDS_ROOT) {
    ctr::test::ScratchDir outside;
    auto victim = outside.path() / "victim";
    REQUIRE(ctr::sys::write_file_atomic(victim, "original", 0600));
    std::string out = outside.path().string();

    SUBCASE("\"..\" in a path is refused") {
        Layer l;
        auto r = l.unpack(make_tar({{"../../escape", AE_IFREG, 0644, "x"}}, Compression::none), Compression::none);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("leaves the root") != std::string::npos);
    }
    SUBCASE("absolute paths land inside") {
        Layer l;
        auto r = l.unpack(make_tar({{out + "/planted", AE_IFREG, 0644, "x"}}, Compression::none), Compression::none);
        REQUIRE(r.has_value());
        CHECK_FALSE(fs::exists(outside.path() / "planted"));
        CHECK(fs::exists(l.target() / out.substr(1) / "planted"));
    }
    SUBCASE("a symlinked parent is resolved inside the target, or refused") {
        Layer l;
        // esc points at a host directory: inside the target that path does not
        // exist, so the entry is refused rather than written anywhere.
        auto r = l.unpack(make_tar({{"esc", AE_IFLNK, 0777, out}, {"esc/planted", AE_IFREG, 0644, "x"}}, Compression::none),
                          Compression::none);
        CHECK_FALSE(r.has_value());
        CHECK_FALSE(fs::exists(outside.path() / "planted"));
        // up climbs as far as it likes: inside the target that is the target itself.
        Layer l2;
        auto r2 = l2.unpack(make_tar({{"up", AE_IFLNK, 0777, "../../../../../../.."}, {"up/planted2", AE_IFREG, 0644, "y"}},
                                     Compression::none),
                            Compression::none);
        REQUIRE_MESSAGE(r2.has_value(), (r2 ? "" : r2.error().message));
        CHECK(fs::exists(l2.target() / "planted2"));
    }
    SUBCASE("a hard link to a host file is refused") {
        Layer l;
        auto r = l.unpack(make_tar({{"stolen", AE_IFREG, 0, victim.string(), true}}, Compression::none), Compression::none);
        REQUIRE_FALSE(r);
        Layer l2;
        auto r2 = l2.unpack(make_tar({{"stolen", AE_IFREG, 0, "../../../" + victim.string(), true}}, Compression::none), Compression::none);
        REQUIRE_FALSE(r2);
        struct stat st {};
        ::stat(victim.c_str(), &st);
        CHECK(st.st_nlink == 1);
    }
    SUBCASE("chmod and writes never go through a link") {
        Layer l;
        auto r = l.unpack(make_tar({{"x", AE_IFLNK, 0777, victim.string()}, {"x", AE_IFREG, 0777, "new"}}, Compression::none),
                          Compression::none);
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
        struct stat st {};
        ::stat(victim.c_str(), &st);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(*ctr::sys::read_file(victim) == "original");
    }
    SUBCASE("owners and modes never go through a link (row 23)") {
        // x points at the host file; a later entry for x, with another owner
        // and mode, replaces the link and leaves its target alone.
        Layer l;
        Entry owned{"x", AE_IFREG, 04777, "new"};
        owned.uid = owned.gid = 4242;
        auto r = l.unpack(make_tar({{"x", AE_IFLNK, 0777, victim.string()}, owned}, Compression::none), Compression::none);
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
        struct stat st {};
        ::stat(victim.c_str(), &st);
        CHECK(st.st_uid == 0);
        CHECK((st.st_mode & 07777) == 0600);
        struct stat in {};
        ::lstat((l.target() / "x").c_str(), &in);
        CHECK(S_ISREG(in.st_mode));
        CHECK(in.st_uid == 4242);
        // A directory entry under a link to a host directory: refused, the directory untouched.
        struct stat dir_before {};
        ::stat(out.c_str(), &dir_before);
        Layer l2;
        Entry d{"d/sub", AE_IFDIR, 0777};
        d.uid = 4242;
        auto r2 = l2.unpack(make_tar({{"d", AE_IFLNK, 0777, out}, d}, Compression::none), Compression::none);
        CHECK_FALSE(r2.has_value());
        struct stat dir_after {};
        ::stat(out.c_str(), &dir_after);
        CHECK(dir_after.st_mode == dir_before.st_mode);
        CHECK(dir_after.st_uid == dir_before.st_uid);
        CHECK_FALSE(fs::exists(outside.path() / "sub"));
    }
    SUBCASE("whiteouts never reach through a link, nor take the root (row 24)") {
        Layer l;
        auto r = l.unpack(make_tar({{"h", AE_IFLNK, 0777, out}, {"h/.wh.victim", AE_IFREG, 0644}}, Compression::none), Compression::none);
        CHECK_FALSE(r.has_value());
        CHECK(fs::exists(victim));
        Layer l2;
        auto root = l2.unpack(make_tar({{".wh..", AE_IFREG, 0644}}, Compression::none), Compression::none);
        CHECK_FALSE(root.has_value());
        Layer l3;
        auto opaque_up = l3.unpack(make_tar({{"h", AE_IFLNK, 0777, out}, {"h/.wh..wh..opq", AE_IFREG, 0644}}, Compression::none),
                                   Compression::none);
        CHECK_FALSE(opaque_up.has_value());
        CHECK(fs::exists(victim));
    }
    SUBCASE("a whiteout of \"..\" is refused") {
        Layer l;
        auto r = l.unpack(make_tar({{"a/", AE_IFDIR, 0755}, {"a/.wh...", AE_IFREG, 0644}}, Compression::none), Compression::none);
        REQUIRE_FALSE(r);
    }
    CHECK(*ctr::sys::read_file(victim) == "original");
}

TEST_CASE("a truncated compressed layer fails cleanly") {
    Layer l;
    std::string bytes = make_tar({{"big", AE_IFREG, 0644, std::string(300000, 'r')}}, Compression::gzip);
    auto r = l.unpack(bytes.substr(0, bytes.size() / 2), Compression::gzip);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == CTR_E_INVALID_ARGUMENT);
    Layer l2;
    auto wrong = l2.unpack(make_tar({{"f", AE_IFREG, 0644, "x"}}, Compression::none), Compression::gzip);
    REQUIRE_FALSE(wrong);
}
