// `container cp`, end to end: both directions, Docker's placement rules,
// running and stopped containers, volumes, tars on stdin and stdout, and
// containers that try to point the copy at the host.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "api/client.hpp"
#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using ctr::test::DaemonRoot;
using ctr::test::ScratchDir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    auto r = ctr::sys::read_file(p);
    return r ? *r : "<missing>";
}

// `container --root R ARGS` through sh, for pipes.
ctr::test::Run shell(const DaemonRoot& r, const std::string& script) {
    std::string cli = (ctr::test::build_root() / "host/container").string() + " --root " + r.root();
    std::string s = script;
    for (size_t at; (at = s.find("CTR")) != std::string::npos;) s.replace(at, 3, cli);
    auto res = ctr::sys::run_capture({"/bin/sh", "-c", s}, ctr::sys::RunOptions{60000, true, {}});
    ctr::test::Run out;
    if (!res) return out;
    out.code = res->status.code;
    out.out = res->out;
    out.err = res->err;
    return out;
}

}  // namespace

TEST_CASE("cp out of a container follows Docker's rules for files and directories" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir here;
    REQUIRE(r.cli({"run", "-d", "--name", "src", "--network", "none", ctr::test::shared_busybox().image, "sh", "-c",
                   "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && ln -s a /data/link && chmod 0640 /data/a && "
                   "chown 1000:50 /data/a && sleep 1000"})
                .code == 0);
    for (int i = 0; i < 100 && r.cli({"exec", "src", "sh", "-c", "test -L /data/link"}).code != 0; ++i) usleep(50000);

    // The routes underneath: stat, with and without following links; bad requests.
    ctr::api::Client api(r.path() / "run/container/api.sock");
    auto link = api.call("GET", "/v1/containers/src/archive/stat?path=/data/link");
    REQUIRE(link);
    CHECK((*link)["kind"] == "symlink");
    CHECK((*link)["link_target"] == "a");
    CHECK((*api.call("GET", "/v1/containers/src/archive/stat?path=data/link&follow=1"))["kind"] == "file");
    CHECK((*api.call("GET", "/v1/containers/src/archive/stat?path=/none"))["kind"] == "missing");
    auto no_path = api.call("GET", "/v1/containers/src/archive/stat");
    REQUIRE_FALSE(no_path);
    CHECK(no_path.error().status == CTR_E_INVALID_ARGUMENT);
    auto no_src = api.upgrade("/v1/containers/src/archive?dest=/tmp");
    REQUIRE_FALSE(no_src);
    CHECK(no_src.error().message.find("src=") != std::string::npos);

    // A file into an existing directory keeps its name; to a new name takes it.
    auto into = r.cli({"cp", "src:/data/a", here.path().string()});
    CHECK(into.code == 0);
    CHECK(into.err.find("copied") != std::string::npos);
    CHECK(slurp(here.path() / "a") == "one\n");
    struct stat st {};
    REQUIRE(::stat((here.path() / "a").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(st.st_uid == 0);  // without -a the owner is whoever copies
    CHECK(r.cli({"cp", "-a", "src:/data/a", (here.path() / "owned").string()}).code == 0);
    REQUIRE(::stat((here.path() / "owned").c_str(), &st) == 0);
    CHECK(st.st_uid == 1000);
    CHECK(st.st_gid == 50);

    // A directory to a missing path becomes it; into an existing one goes under its name; "/." copies the contents.
    CHECK(r.cli({"cp", "src:/data", (here.path() / "fresh").string()}).code == 0);
    CHECK(slurp(here.path() / "fresh/sub/b") == "two\n");
    CHECK(fs::is_symlink(here.path() / "fresh/link"));
    CHECK(fs::read_symlink(here.path() / "fresh/link") == "a");
    CHECK(r.cli({"cp", "src:/data", (here.path() / "fresh").string()}).code == 0);
    CHECK(slurp(here.path() / "fresh/data/a") == "one\n");
    fs::create_directory(here.path() / "flat");
    CHECK(r.cli({"cp", "src:/data/.", (here.path() / "flat").string()}).code == 0);
    CHECK(slurp(here.path() / "flat/sub/b") == "two\n");

    // A symlink is copied as a link, or followed with -L.
    CHECK(r.cli({"cp", "src:/data/link", (here.path() / "l1").string()}).code == 0);
    CHECK(fs::is_symlink(here.path() / "l1"));
    CHECK(r.cli({"cp", "-L", "src:/data/link", (here.path() / "l2").string()}).code == 0);
    CHECK(slurp(here.path() / "l2") == "one\n");

    // "-": a tar on stdout, its top named as the source.
    auto tar = shell(r, "CTR cp src:/data - | tar -tf - | sort");
    CHECK(tar.code == 0);
    CHECK(tar.out.find("data/\ndata/a\ndata/link\ndata/sub/\ndata/sub/b\n") != std::string::npos);

    // Errors: one line, exit 125, nothing written.
    auto missing = r.cli({"cp", "src:/nope", here.path().string()});
    CHECK(missing.code == 125);
    CHECK(missing.err == "container: no such file or directory in container src: /nope\n");
    auto onto_file = r.cli({"cp", "src:/data", (here.path() / "a").string()});
    CHECK(onto_file.code == 125);
    CHECK(onto_file.err.find("cannot copy a directory onto the file") != std::string::npos);
    auto no_dir = r.cli({"cp", "src:/data/a", here.path().string() + "/absent/"});
    CHECK(no_dir.code == 125);
    CHECK(no_dir.err.find("does not exist") != std::string::npos);
    auto both = r.cli({"cp", "src:/data/a", "src:/tmp"});
    CHECK(both.code == 125);
    CHECK(both.err.find("exactly one of source and destination") != std::string::npos);
    auto nobody = r.cli({"cp", "ghost:/etc", here.path().string()});
    CHECK(nobody.code == 125);
    CHECK(nobody.err.find("ghost") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "src"}).code == 0);
}

TEST_CASE("cp into running and stopped containers, into volumes, and from a tar on stdin" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir here;
    fs::create_directories(here.path() / "tree/deep");
    REQUIRE(ctr::sys::write_file_atomic(here.path() / "tree/deep/f", "payload\n", 0600));
    REQUIRE(ctr::sys::write_file_atomic(here.path() / "single", "single\n", 0755));
    REQUIRE(r.cli({"run", "-d", "--name", "dst", "--network", "none", "-v", "shared:/vol", ctr::test::shared_busybox().image, "sleep", "1000"}).code == 0);

    CHECK(r.cli({"cp", (here.path() / "tree").string(), "dst:/tmp"}).code == 0);
    CHECK(r.cli({"exec", "dst", "cat", "/tmp/tree/deep/f"}).out == "payload\n");
    CHECK(r.cli({"exec", "dst", "sh", "-c", "stat -c '%a %u' /tmp/tree/deep/f"}).out == "600 0\n");
    CHECK(r.cli({"cp", (here.path() / "single").string(), "dst:/tmp/renamed"}).code == 0);
    CHECK(r.cli({"exec", "dst", "sh", "-c", "stat -c %a /tmp/renamed"}).out == "755\n");
    // Paths without a leading "/" are from the container's root.
    CHECK(r.cli({"cp", (here.path() / "single").string(), "dst:tmp"}).code == 0);
    CHECK(r.cli({"exec", "dst", "cat", "/tmp/single"}).out == "single\n");

    // The volume mounted in the running container receives it, and a second container sees it.
    CHECK(r.cli({"cp", (here.path() / "single").string(), "dst:/vol/"}).code == 0);
    CHECK(r.cli({"run", "--rm", "--network", "none", "-v", "shared:/v", ctr::test::shared_busybox().image, "cat", "/v/single"}).out == "single\n");

    // A tar on stdin lands under an existing directory as its entries are named.
    auto piped = shell(r, "tar -C " + here.path().string() + " -cf - tree | CTR cp - dst:/vol");
    CHECK(piped.code == 0);
    CHECK(r.cli({"exec", "dst", "cat", "/vol/tree/deep/f"}).out == "payload\n");
    auto not_dir = shell(r, "tar -C " + here.path().string() + " -cf - tree | CTR cp - dst:/vol/absent");
    CHECK(not_dir.code == 125);
    CHECK(not_dir.err.find("must be an existing directory") != std::string::npos);

    // Errors from inside the container come back as one line.
    auto onto_file = r.cli({"cp", (here.path() / "tree").string(), "dst:/tmp/renamed"});
    CHECK(onto_file.code == 125);
    CHECK(onto_file.err.find("cannot copy a directory onto the file \"/tmp/renamed\"") != std::string::npos);
    auto no_parent = r.cli({"cp", (here.path() / "single").string(), "dst:/absent/x"});
    CHECK(no_parent.code == 125);
    CHECK(no_parent.err.find("\"/absent\": no such directory") != std::string::npos);
    auto local_missing = r.cli({"cp", (here.path() / "nothing").string(), "dst:/tmp"});
    CHECK(local_missing.code == 125);
    CHECK(local_missing.err.find("no such file or directory") != std::string::npos);

    // A stopped container: into and out of its root filesystem; it sees the file when started.
    CHECK(r.cli({"stop", "-t", "0", "dst"}).code == 0);
    CHECK(r.cli({"cp", (here.path() / "single").string(), "dst:/etc/added"}).code == 0);
    CHECK(r.cli({"cp", "dst:/etc/added", (here.path() / "back").string()}).code == 0);
    CHECK(slurp(here.path() / "back") == "single\n");
    CHECK(r.cli({"start", "dst"}).code == 0);
    CHECK(r.cli({"exec", "dst", "cat", "/etc/added"}).out == "single\n");
    CHECK(r.cli({"rm", "-f", "dst"}).code == 0);
    CHECK(r.cli({"volume", "rm", "shared"}).code == 0);
}

TEST_CASE("cp cannot be pointed at the host by a container's symlinks" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir here;
    const std::string marker = "ctr-cp-escape-" + std::to_string(::getpid());
    REQUIRE(ctr::sys::write_file_atomic(here.path() / marker, "from the host\n"));
    // Absolute and relative links that would leave the root on the host.
    REQUIRE(r.cli({"run", "-d", "--name", "evil", "--network", "none", ctr::test::shared_busybox().image, "sh", "-c",
                   "ln -s / /tmp/up && ln -s ../../../../../../ /tmp/rel && ln -s /etc/shadow-of-host /tmp/file && sleep 1000"})
                .code == 0);
    for (int i = 0; i < 100 && r.cli({"exec", "evil", "sh", "-c", "test -L /tmp/file"}).code != 0; ++i) usleep(50000);

    CHECK(r.cli({"cp", (here.path() / marker).string(), "evil:/tmp/up/"}).code == 0);
    CHECK(r.cli({"cp", (here.path() / marker).string(), "evil:/tmp/rel/" + marker + "-2"}).code == 0);
    // Both landed in the container's root, not the host's.
    CHECK_FALSE(fs::exists("/" + marker));
    CHECK_FALSE(fs::exists("/" + marker + "-2"));
    CHECK(r.cli({"exec", "evil", "cat", "/" + marker}).out == "from the host\n");
    CHECK(r.cli({"exec", "evil", "cat", "/" + marker + "-2"}).out == "from the host\n");
    // Following a link out of the container reads the container's target, which does not exist.
    auto follow = r.cli({"cp", "-L", "evil:/tmp/file", (here.path() / "got").string()});
    CHECK(follow.code == 125);
    CHECK_FALSE(fs::exists(here.path() / "got"));
    // And /etc/passwd through "/tmp/up" is the image's own (it has the user "app").
    CHECK(r.cli({"cp", "evil:/tmp/up/etc/passwd", (here.path() / "pw").string()}).code == 0);
    CHECK(slurp(here.path() / "pw").find("app:x:1000") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "evil"}).code == 0);
}

TEST_CASE("cp never loads the container's NSS modules (CVE-2019-14271): a poisoned libnss in the image stays unloaded" * CTR_NEEDS_ROOT) {
    // Every NSS module the image could offer is the poison, and its
    // nsswitch.conf names it: a lookup of a user name inside this root loads it.
    ctr::test::BusyboxRegistry poisoned(
        "mkdir -p lib/x86_64-linux-gnu lib64 && for m in files compat dns poison; do "
        "cp \"$CTR_BUILD_ROOT/tests/libnss_poison.so.2\" lib/x86_64-linux-gnu/libnss_$m.so.2; done && "
        "printf 'passwd: poison files\\ngroup: poison files\\n' > etc/nsswitch.conf");
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "p", "--network", "none", poisoned.image, "sleep", "600"}).code == 0);
    auto pid = nlohmann::json::parse(r.cli({"inspect", "p"}).out)[0]["pid"].get<int64_t>();

    // The poison works: a process that looks a user up inside the
    // container's root (what a copy helper without the defence does) loads it.
    auto looked_up = ctr::sys::run_capture(
        {"/usr/bin/python3", "-c",
         "import os, pwd; os.chroot('/proc/" + std::to_string(pid) + "/root'); os.chdir('/'); pwd.getpwnam('app')"},
        ctr::sys::RunOptions{30000, true, {}});
    REQUIRE(looked_up.has_value());
    CHECK(looked_up->status.code == 99);
    CHECK(looked_up->err.find("NSS-POISON-LOADED") != std::string::npos);

    // cp in both directions, keeping owners (-a: names in the tar), into a
    // running and a stopped container: the poison never runs.
    ScratchDir work;
    REQUIRE(ctr::sys::write_file_atomic(work.path() / "f", "data\n", 0644));
    auto in = r.cli({"cp", "-a", (work.path() / "f").string(), "p:/work/f"});
    CHECK_MESSAGE(in.code == 0, in.err);
    auto out = r.cli({"cp", "-a", "p:/etc/passwd", (work.path() / "passwd").string()});
    CHECK_MESSAGE(out.code == 0, out.err);
    REQUIRE(r.cli({"stop", "-t", "0", "p"}).code == 0);
    auto stopped_in = r.cli({"cp", "-a", (work.path() / "f").string(), "p:/work/g"});
    CHECK_MESSAGE(stopped_in.code == 0, stopped_in.err);
    auto stopped_out = r.cli({"cp", "-a", "p:/work", (work.path() / "w").string()});
    CHECK_MESSAGE(stopped_out.code == 0, stopped_out.err);
    for (const auto* res : {&in, &out, &stopped_in, &stopped_out}) CHECK(res->err.find("NSS-POISON") == std::string::npos);
    CHECK(slurp(work.path() / "w/g") == "data\n");
    CHECK(r.cli({"rm", "p"}).code == 0);
}
