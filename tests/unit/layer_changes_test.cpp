// diff's reading of an overlay upper directory against the layers beneath,
// on a real overlay mount: what the kernel writes for a change, an
// addition, a deletion and an opaque directory.
#include "copy/layer_changes.hpp"
#include "copy/layer_diff.hpp"

#include "tests/support/skip.hpp"
#include "tests/support/tempdir.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include <doctest/doctest.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;

namespace {

std::string listing(const std::vector<ctr::copy::Change>& changes) {
    std::string out;
    for (const auto& c : changes) out += std::string(1, "CAD"[static_cast<int>(c.kind)]) + " " + c.path + "\n";
    return out;
}

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("layer_changes reads an overlay's upper directory as docker diff does" * CTR_NEEDS_ROOT) {
    ctr::test::ScratchDir dir;
    const fs::path base = dir.path() / "base", top = dir.path() / "top", upper = dir.path() / "upper", work = dir.path() / "work",
                   merged = dir.path() / "merged";
    write(base / "etc/passwd", "root\n");
    write(base / "etc/old", "x\n");
    write(base / "bin/tool", "x\n");
    write(base / "var/cache/a", "x\n");
    write(top / "etc/motd", "hi\n");  // a second layer
    for (const auto& d : {upper, work, merged}) fs::create_directories(d);
    const std::string opts = "lowerdir=" + top.string() + ":" + base.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
    REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0);

    auto lowers = ctr::copy::overlay_lowers(merged);
    REQUIRE(lowers);
    CHECK(*lowers == std::vector<fs::path>{top, base});
    CHECK_FALSE(ctr::copy::overlay_lowers(dir.path()));

    // Through the mount, as a container would.
    write(merged / "etc/motd", "changed\n");        // in the upper layer of two
    write(merged / "new/deep/file", "added\n");    // a new tree
    fs::remove(merged / "bin/tool");                // a whiteout
    fs::remove_all(merged / "var/cache");           // a whiteout of a directory
    fs::create_directories(merged / "var/cache");   // ... made again: opaque
    write(merged / "var/cache/b", "b\n");
    write(merged / "etc/hosts", "");                // a mount point the caller skips
    ::chmod((merged / "etc").c_str(), 0700);        // a directory's own change

    auto changes = ctr::copy::layer_changes(upper, *lowers, [](const std::string& rel, const struct stat&) { return rel == "etc/hosts"; });
    REQUIRE(changes);
    CHECK(listing(*changes) ==
          "C /bin\nD /bin/tool\nC /etc\nC /etc/motd\nA /new\nA /new/deep\nA /new/deep/file\nC /var\nC /var/cache\nA /var/cache/b\n");

    REQUIRE(::umount2(merged.c_str(), MNT_DETACH) == 0);

    // A directory copied up only for what is skipped is no change.
    const fs::path upper2 = dir.path() / "upper2", work2 = dir.path() / "work2";
    for (const auto& d : {upper2, work2}) fs::create_directories(d);
    const std::string opts2 = "lowerdir=" + top.string() + ":" + base.string() + ",upperdir=" + upper2.string() + ",workdir=" + work2.string();
    REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, opts2.c_str()) == 0);
    write(merged / "etc/hosts", "");
    auto skipped = ctr::copy::layer_changes(upper2, *lowers, [](const std::string& rel, const struct stat&) { return rel == "etc/hosts"; });
    REQUIRE(skipped);
    CHECK(listing(*skipped) == "");
    auto all = ctr::copy::layer_changes(upper2, *lowers);
    REQUIRE(all);
    CHECK(listing(*all) == "C /etc\nA /etc/hosts\n");
    REQUIRE(::umount2(merged.c_str(), MNT_DETACH) == 0);
}

TEST_CASE("an opaque directory as fuse-overlayfs leaves it in a user namespace: one change, one opaque mark in the layer" * CTR_NEEDS_ROOT) {
    // What fuse-overlayfs (1.10) writes in a rootless daemon's upper layer
    // for `rm -rf /var/cache && mkdir /var/cache && echo b > /var/cache/b`:
    // its xattr on the directory, plus a ".wh..wh..opq" file and a
    // ".wh..opq" whiteout inside it.
    ctr::test::ScratchDir dir;
    const fs::path base = dir.path() / "base", upper = dir.path() / "upper";
    write(base / "var/cache/a", "x\n");
    write(upper / "var/cache/b", "b\n");
    write(upper / "var/cache/.wh..wh..opq", "");
    REQUIRE(::mknod((upper / "var/cache/.wh..opq").c_str(), S_IFCHR, makedev(0, 0)) == 0);
    REQUIRE(::setxattr((upper / "var/cache").c_str(), "user.fuseoverlayfs.opaque", "y", 1, 0) == 0);
    CHECK(ctr::copy::is_opaque(upper / "var/cache"));

    auto changes = ctr::copy::layer_changes(upper, {base});
    REQUIRE(changes);
    CHECK(listing(*changes) == "C /var\nC /var/cache\nA /var/cache/b\n");

    const fs::path tar = dir.path() / "layer.tar";
    REQUIRE(ctr::copy::write_layer(upper, tar));
    auto listed = ctr::sys::run_capture({"/bin/tar", "-tf", tar.string()}, 10000);
    REQUIRE(listed);
    CHECK(listed->out == "var/\nvar/cache/\nvar/cache/.wh..wh..opq\nvar/cache/b\n");
}
