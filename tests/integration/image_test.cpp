// image-oci against a real registry (Debian's docker-registry on loopback),
// with images built by umoci and pushed by skopeo.
#include "tests/support/fault_proxy.hpp"
#include "tests/support/netns_link.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/token_server.hpp"
#include "tests/support/run.hpp"

#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/loader.hpp>
#include <ctr/pluginhost/manifest.hpp>
#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <future>
#include <map>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

using ctr::test::DaemonRoot;
using ctr::test::Registry;
using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Layers that exercise what unpacking must get right.
const std::vector<std::string> kRichImage = {
    // 1: busybox, files, a hard link, symlinks, a directory to replace, files to delete
    "mkdir -p bin etc opt/old var/empty && cp /bin/busybox bin/ && for a in sh echo cat ls; do ln -s busybox bin/$a; done"
    " && echo a > etc/a && ln etc/a etc/a-hard && echo gone > etc/gone && echo x > opt/old/x && ln -s /etc/a etc/abs-link"
    " && chmod 0640 etc/a && chown 1000:1000 etc/gone && mkfifo var/fifo",
    // 2: whiteouts (a deleted file) and an opaque directory (replaced contents)
    "rm etc/gone && rm -rf opt && mkdir opt && echo new > opt/new && echo changed > etc/a",
    // 3: a large sparse file and a nested tree
    "truncate -s 64M var/sparse && mkdir -p deep/a/b/c && echo leaf > deep/a/b/c/leaf",
};

std::string sha256_hex(const std::string& data) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    char hex[65];
    for (unsigned i = 0; i < n; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

std::string file_digest(const fs::path& p) {
    auto text = ctr::sys::read_file(p);
    REQUIRE(text.has_value());
    return sha256_hex(*text);
}

// path -> "type mode uid:gid size content-or-target", for every entry under root.
std::map<std::string, std::string> describe_tree(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        struct stat st {};
        REQUIRE(::lstat(it->path().c_str(), &st) == 0);
        std::string rel = fs::relative(it->path(), root).string();
        std::string what;
        if (S_ISREG(st.st_mode)) what = "file " + std::to_string(st.st_size) + " " + file_digest(it->path());
        else if (S_ISDIR(st.st_mode)) what = "dir";
        else if (S_ISLNK(st.st_mode)) what = "link " + fs::read_symlink(it->path()).string();
        else if (S_ISFIFO(st.st_mode)) what = "fifo";
        else what = "other";
        out[rel] = what + " mode=" + std::to_string(st.st_mode & 07777) + " owner=" + std::to_string(st.st_uid) + ":" +
                   std::to_string(st.st_gid);
    }
    return out;
}

std::unique_ptr<ctr::pluginhost::LoadedPlugin> load_image_plugin(const fs::path& state) {
    auto m = ctr::pluginhost::parse_manifest(ctr::test::build_root() / "plugins/image-oci/config.toml");
    REQUIRE(m.has_value());
    ctr::pluginhost::HostOffer offer;
    offer.state_dir = state.string();
    fs::create_directories(state);
    auto p = ctr::pluginhost::LoadedPlugin::load(*m, offer);
    REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().message));
    return std::move(*p);
}

ctr::Result<json> pull(ctr::pluginhost::LoadedPlugin& p, const json& req) {
    return ctr::pluginhost::invoke_pull(*p.image(), p.instance(), req, nullptr, nullptr);
}

}  // namespace

TEST_CASE("a pulled image's root filesystem is identical to umoci's unpack of it (gzip, zstd, uncompressed)" * CTR_NEEDS_ROOT) {
    Registry reg;
    for (const std::string compress : {"gzip", "zstd"}) {
        CAPTURE(compress);
        ScratchDir work;
        std::string ref = reg.host() + "/test/rich:" + compress;
        ctr::test::build_and_push(work, kRichImage, "docker://" + ref, compress);
        ctr::test::sh("cd " + work.path().string() + " && umoci unpack --image L:t ref >/dev/null");

        auto plugin = load_image_plugin(work.path() / "state");
        auto r = pull(*plugin, {{"reference", ref}});
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
        CHECK((*r)["config"]["rootfs"]["diff_ids"].size() == 3);

        auto target = work.path() / "mnt";
        auto prep = ctr::pluginhost::invoke(plugin->image()->prepare_rootfs, plugin->instance(),
                                         {{"reference", ref}, {"container_id", "c1"}, {"target", target.string()}}, "prepare_rootfs");
        REQUIRE_MESSAGE(prep.has_value(), (prep ? "" : prep.error().message));
        auto ours = describe_tree(target);
        auto theirs = describe_tree(work.path() / "ref/rootfs");
        CHECK(ours.size() == theirs.size());
        for (const auto& [path, what] : theirs) {
            CAPTURE(path);
            CHECK(ours[path] == what);
        }
        CHECK_FALSE(fs::exists(target / "etc/gone"));
        CHECK_FALSE(fs::exists(target / "opt/old"));
        CHECK(*ctr::sys::read_file(target / "etc/a") == "changed\n");
        struct stat st {};
        REQUIRE(::stat((target / "var/sparse").c_str(), &st) == 0);
        CHECK(st.st_size == 64 << 20);
        CHECK(st.st_blocks * 512 < (1 << 20));  // still sparse

        // Writes go to the container's own upper layer, not the shared snapshots.
        REQUIRE(ctr::sys::write_file_atomic(target / "etc/a", "container's own\n"));
        REQUIRE(ctr::pluginhost::invoke(plugin->image()->release_rootfs, plugin->instance(),
                                     {{"container_id", "c1"}, {"target", target.string()}}, "release_rootfs"));
        auto again = ctr::pluginhost::invoke(plugin->image()->prepare_rootfs, plugin->instance(),
                                          {{"reference", ref}, {"container_id", "c2"}, {"target", target.string()}}, "prepare_rootfs");
        REQUIRE(again.has_value());
        CHECK(*ctr::sys::read_file(target / "etc/a") == "changed\n");
        REQUIRE(ctr::pluginhost::invoke(plugin->image()->release_rootfs, plugin->instance(),
                                     {{"container_id", "c2"}, {"target", target.string()}}, "release_rootfs"));
    }
}

TEST_CASE("image pull, ls, inspect, rm through the CLI; rm collects what no image uses" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    std::string a = reg.host() + "/test/app:1";
    std::string b = reg.host() + "/test/app:2";  // shares the first layer with a
    ctr::test::build_and_push(work, {"mkdir bin && cp /bin/busybox bin/"}, "docker://" + reg.host() + "/test/app:base");
    for (const auto& [tag, ref] : {std::pair{"1", a}, {"2", b}})
        ctr::test::sh("cd " + work.path().string() + " && rm -rf B && umoci unpack --image L:t B >/dev/null && echo v" + tag +
                      " > B/rootfs/version && umoci repack --image L:v" + tag + " B >/dev/null && skopeo copy --quiet "
                      "--dest-tls-verify=false oci:L:v" + tag + " docker://" + ref);

    DaemonRoot r;
    auto p1 = r.cli({"image", "pull", "--progress", "plain", a});
    REQUIRE_MESSAGE(p1.code == 0, p1.err);
    CHECK(p1.out.find(a + "\nsha256:") == 0);
    CHECK(p1.err.find(": download") != std::string::npos);
    CHECK(p1.err.find(": done") != std::string::npos);
    auto p2 = r.cli({"image", "pull", "--progress", "none", b});
    REQUIRE_MESSAGE(p2.code == 0, p2.err);
    CHECK(p2.err.find("download") == std::string::npos);

    auto ls = json::parse(r.cli({"image", "ls", "--format", "json"}).out);
    CHECK(ls.size() == 2);
    auto table = r.cli({"image", "ls"});
    CHECK(table.out.find(reg.host() + "/test/app   1") != std::string::npos);
    auto inspect = json::parse(r.cli({"image", "inspect", a}).out);
    CHECK(inspect[0]["config"]["config"]["Cmd"][0] == "/bin/sh");

    auto state = r.path() / "var/lib/container/plugins/image-oci";
    auto count = [](const fs::path& dir) { return std::distance(fs::directory_iterator(dir), fs::directory_iterator()); };
    CHECK(count(state / "snapshots") == 3);  // the shared layer is unpacked once
    REQUIRE(r.cli({"image", "rm", a}).code == 0);
    CHECK(count(state / "snapshots") == 2);
    auto blobs_left = count(state / "content/blobs/sha256");
    REQUIRE(r.cli({"image", "rm", b}).code == 0);
    CHECK(count(state / "snapshots") == 0);
    CHECK(count(state / "content/blobs/sha256") == 0);
    CHECK(blobs_left > 0);
    auto gone = r.cli({"image", "rm", b});
    CHECK(gone.code == 125);
    CHECK(gone.err.find("no image " + b) != std::string::npos);

    // By id, docker's rule: the image with every name it has, which takes -f when it has several.
    REQUIRE(r.cli({"image", "pull", "--progress", "none", a}).code == 0);
    REQUIRE(r.cli({"image", "tag", a, "local/alias:1"}).code == 0);
    const std::string id = json::parse(r.cli({"image", "inspect", a}).out)[0]["digest"].get<std::string>().substr(7, 12);
    auto refused = r.cli({"image", "rm", id});
    CHECK(refused.code == 125);
    CHECK_MESSAGE(refused.err.find("unable to delete " + id + " (must be forced): the image has 2 names") != std::string::npos, refused.err);
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).size() == 2);
    auto forced = r.cli({"image", "rm", "-f", id});
    CHECK_MESSAGE(forced.code == 0, forced.err);
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(count(state / "snapshots") == 0);
}

TEST_CASE("registry errors are clear, store nothing, and leave the daemon serving" * CTR_NEEDS_ROOT) {
    Registry reg;
    DaemonRoot r;
    auto missing = r.cli({"image", "pull", reg.host() + "/test/absent:1"});
    CHECK(missing.code == 125);
    CHECK(missing.err.find("not found: " + reg.host() + "/test/absent:1") != std::string::npos);
    auto bad = r.cli({"image", "pull", "Bad/Name"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("must be lowercase") != std::string::npos);
    auto digest = r.cli({"image", "pull", reg.host() + "/x@sha256:../../etc/passwd"});
    CHECK(digest.code == 125);
    CHECK(digest.err.find("invalid digest") != std::string::npos);
    auto closed = r.cli({"image", "pull", "127.0.0.1:1/nothing:1"});
    CHECK(closed.code == 125);
    CHECK(closed.err.find("cannot reach registry 127.0.0.1:1") != std::string::npos);
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(r.cli({"system", "status"}).code == 0);
}

TEST_CASE("a flaky registry: 503s are retried with backoff, a blob cut mid-body resumes with Range, a dead one fails cleanly" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    // One layer of 4 MiB of random bytes: big enough to cut in the middle.
    ctr::test::build_and_push(work, {"mkdir -p bin && cp /bin/busybox bin/ && head -c 4194304 /dev/urandom > big"},
                              "docker://" + reg.host() + "/test/flaky:1");
    DaemonRoot r;
    {
        // Rows 28 and 30: two 503s for blobs, then the first blob's body cut after 1 MiB.
        ctr::test::FaultProxy proxy(reg.host(), {2, false, 1 << 20});
        auto pulled = r.cli({"image", "pull", "--progress", "plain", proxy.host() + "/test/flaky:1"});
        CHECK_MESSAGE(pulled.code == 0, pulled.err);
        auto seen = proxy.requests();
        int unavailable_then_retried = 0, resumed = 0;
        for (const auto& line : seen) {
            if (line.find("/blobs/") != std::string::npos) ++unavailable_then_retried;
            if (line.find("[Range: bytes=") != std::string::npos) ++resumed;
        }
        CHECK(unavailable_then_retried >= 4);  // 2 refused + the blobs themselves + the resumed one
        CHECK(resumed >= 1);                   // the cut blob went on from where it stopped
        // The image is whole: it runs, and its big file has every byte.
        CHECK(r.cli({"run", "--rm", "--network", "none", proxy.host() + "/test/flaky:1", "/bin/busybox", "stat", "-c", "%s", "/big"}).out ==
              "4194304\n");
    }
    for (const char* refusal : {"429 Too Many Requests", "500 Internal Server Error", "502 Bad Gateway"}) {
        // Throttled, or a server that fails now and then: each is retried
        // (429 after the Retry-After it names), and the pull completes.
        CAPTURE(refusal);
        DaemonRoot fresh;
        ctr::test::FaultProxy::Faults f;
        f.unavailable = 2;
        f.refusal = refusal;
        f.retry_after = std::string(refusal).rfind("429", 0) == 0 ? "1" : "";
        ctr::test::FaultProxy proxy(reg.host(), f);
        auto pulled = fresh.cli({"image", "pull", "--progress", "none", proxy.host() + "/test/flaky:1"});
        CHECK_MESSAGE(pulled.code == 0, pulled.err);
        int blob_gets = 0;
        for (const auto& line : proxy.requests())
            if (line.rfind("GET ", 0) == 0 && line.find("/blobs/") != std::string::npos) ++blob_gets;
        CHECK(blob_gets >= 4);  // 2 refused, then the config and the layer
    }
    {
        // A registry whose blobs never come (a fresh root: no blob stored yet):
        // bounded attempts, then a clear error; nothing stored.
        DaemonRoot fresh;
        ctr::test::FaultProxy dead(reg.host(), {0, true, -1});
        auto failed = fresh.cli({"image", "pull", "--progress", "none", dead.host() + "/test/flaky:1"});
        CHECK(failed.code == 125);
        CHECK(failed.err.find("answered HTTP 503") != std::string::npos);
        CHECK(dead.requests().size() < 40);  // bounded, not a retry storm
        CHECK(json::parse(fresh.cli({"image", "ls", "--format", "json"}).out).empty());
        CHECK(fresh.cli({"system", "status"}).code == 0);
    }
}

TEST_CASE("bearer tokens: a registry behind a token server; the login goes to the token server, the token to the registry" * CTR_NEEDS_ROOT) {
    ctr::test::TokenServer tokens("tok", "secret");
    Registry reg(&tokens);
    ScratchDir work;
    ctr::test::build_and_push(work, ctr::test::kBusyboxImage, "docker://" + reg.host() + "/test/tok:1", "gzip", "tok:secret");
    DaemonRoot r;
    const std::string image = reg.host() + "/test/tok:1";
    auto anonymous = r.cli({"image", "pull", "--progress", "none", image});
    CHECK(anonymous.code == 125);
    CHECK(anonymous.err.find("authentication failed for " + reg.host()) != std::string::npos);
    CHECK(r.cli({"registry", "login", "-u", "tok", "-p", "secret", reg.host()}).code == 0);
    auto pulled = r.cli({"image", "pull", "--progress", "none", image});
    CHECK_MESSAGE(pulled.code == 0, pulled.err);
    auto seen = tokens.requests();
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().authenticated);
    CHECK(seen.back().query.find("service=test-registry") != std::string::npos);
    CHECK(seen.back().query.find("scope=repository%3Atest%2Ftok%3Apull") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--network", "none", image, "echo", "tokened"}).out == "tokened\n");
}

// Builds a one-layer image (`layer`, a shell step run in its rootfs), lets
// `edit` (Python, with `config` and `manifest` as dicts, `blob(digest)` a
// blob's path and `put(bytes)` -> (digest, size)) change it, then pushes it as
// `dest`: images that no honest builder makes, for the bad-image rows.
const char* const kHelloLayer = "mkdir -p bin && cp /bin/busybox bin/ && ln -s busybox bin/sh && echo hi > hello";
void push_edited(const ScratchDir& work, const std::string& dest, const std::string& edit, const std::string& layer = kHelloLayer) {
    std::string w = work.path().string();
    ctr::test::sh("cd " + w + " && rm -rf L B && umoci init --layout L && umoci new --image L:t && umoci unpack --image L:t B >/dev/null && "
                  "(cd B/rootfs && " + layer + ") && "
                  "umoci repack --image L:t B >/dev/null && umoci config --image L:t --config.cmd /bin/sh >/dev/null && "
                  "python3 - <<'PY'\n"
                  "import hashlib, json, os\n"
                  "L = 'L'\n"
                  "def blob(d): return os.path.join(L, 'blobs', 'sha256', d.split(':')[1])\n"
                  "def put(data):\n"
                  "    d = 'sha256:' + hashlib.sha256(data).hexdigest()\n"
                  "    open(blob(d), 'wb').write(data)\n"
                  "    return d, len(data)\n"
                  "index = json.load(open(os.path.join(L, 'index.json')))\n"
                  "m = [x for x in index['manifests'] if x['annotations']['org.opencontainers.image.ref.name'] == 't'][0]\n"
                  "manifest = json.load(open(blob(m['digest'])))\n"
                  "config = json.load(open(blob(manifest['config']['digest'])))\n" +
                  edit +
                  "\nmanifest['config']['digest'], manifest['config']['size'] = put(json.dumps(config).encode())\n"
                  "m['digest'], m['size'] = put(json.dumps(manifest).encode())\n"
                  "json.dump(index, open(os.path.join(L, 'index.json'), 'w'))\n"
                  "PY\n"
                  "skopeo copy --quiet --dest-tls-verify=false oci:L:t " + dest);
}

int count_entries(const fs::path& dir) {
    std::error_code ec;
    return static_cast<int>(std::distance(fs::directory_iterator(dir, ec), fs::directory_iterator()));
}

TEST_CASE("images whose config disagrees with their layers are refused, and nothing of them is kept (row 16)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    DaemonRoot r;
    auto snapshots = r.path() / "var/lib/container/plugins/image-oci/snapshots";
    SUBCASE("more diff_ids than layers") {
        push_edited(work, "docker://" + reg.host() + "/test/bad:1", "config['rootfs']['diff_ids'].append(config['rootfs']['diff_ids'][0])");
        auto pulled = r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/bad:1"});
        CHECK(pulled.code == 125);
        CHECK_MESSAGE(pulled.err.find("image config lists 2 layers, the manifest 1") != std::string::npos, pulled.err);
    }
    SUBCASE("a diff_id that is not the layer's") {
        push_edited(work, "docker://" + reg.host() + "/test/bad:1",
                    "config['rootfs']['diff_ids'][0] = 'sha256:' + hashlib.sha256(b'other').hexdigest()");
        auto pulled = r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/bad:1"});
        CHECK(pulled.code == 125);
        CHECK_MESSAGE(pulled.err.find("does not match the config's diff_id sha256:" + std::string("")) != std::string::npos, pulled.err);
        CHECK(count_entries(snapshots) == 0);  // the unpacked layer is discarded
    }
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(r.cli({"system", "status"}).code == 0);
}

TEST_CASE("a manifest that is not the one asked for, or too large, is refused before anything is stored (rows 13, 14)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    push_edited(work, "docker://" + reg.host() + "/test/m:1", "");
    std::string real = ctr::test::sh("skopeo inspect --raw --tls-verify=false docker://" + reg.host() + "/test/m:1");
    std::string hex = sha256_hex(real);
    DaemonRoot r;
    auto blobs = r.path() / "var/lib/container/plugins/image-oci/content/blobs/sha256";
    SUBCASE("other bytes than the digest names") {
        // The same document with a space more: valid, but not what was asked for.
        ctr::test::FaultProxy proxy(reg.host(), {.manifest_body = real + " "});
        auto pulled = r.cli({"image", "pull", "--progress", "none", proxy.host() + "/test/m@sha256:" + hex});
        CHECK(pulled.code == 125);
        CHECK_MESSAGE(pulled.err.find("digest mismatch") != std::string::npos, pulled.err);
    }
    SUBCASE("a manifest over 4 MiB") {
        ctr::test::FaultProxy proxy(reg.host(), {.manifest_body = std::string(5 << 20, ' ') + real});
        auto pulled = r.cli({"image", "pull", "--progress", "none", proxy.host() + "/test/m:1"});
        CHECK(pulled.code == 125);
        CHECK_MESSAGE(pulled.err.find("is larger than 4 MiB") != std::string::npos, pulled.err);
    }
    SUBCASE("a config that is not JSON") {
        push_edited(work, "docker://" + reg.host() + "/test/m:2", "config = 'not an object'");
        auto pulled = r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/m:2"});
        CHECK(pulled.code == 125);
        CHECK_MESSAGE(pulled.err.find("config") != std::string::npos, pulled.err);
    }
    CHECK(count_entries(blobs) == 0);
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(r.cli({"system", "status"}).code == 0);
    // The count above looks where a pull stores blobs: a good pull fills it.
    REQUIRE(r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/m:1"}).code == 0);
    CHECK(count_entries(blobs) >= 3);  // manifest, config, layer
}

TEST_CASE("an image config's volumes climbing out with \"..\" and labels naming host programs change nothing on the host (row 25)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    const fs::path owned = work.path() / "owned";  // what the labels' commands would make, if anything ran them
    push_edited(work, "docker://" + reg.host() + "/test/vol:1",
                "config['config']['Volumes'] = {'/../../../../etc': {}, '/data/../../root': {}}\n"
                "config['config']['Labels'] = {'com.docker.compose.hook': '/usr/bin/touch " + owned.string() + "', "
                "'run': '/bin/sh -c \"touch " + owned.string() + "\"'}");
    DaemonRoot r;
    struct stat before {};
    REQUIRE(::stat("/etc", &before) == 0);
    auto run = r.cli({"run", "--rm", reg.host() + "/test/vol:1", "/bin/busybox", "cat", "/hello"});
    CHECK_MESSAGE(run.code == 0, run.err);
    CHECK(run.out == "hi\n");
    struct stat after {};
    REQUIRE(::stat("/etc", &after) == 0);
    CHECK(after.st_mtime == before.st_mtime);
    CHECK(json::parse(r.cli({"volume", "ls", "--format", "json"}).out).empty());  // no volume made from the config
    CHECK_FALSE(fs::exists(owned));  // no label was run as a command
    CHECK(json::parse(r.cli({"image", "inspect", reg.host() + "/test/vol:1"}).out)[0].dump().find(owned.string()) != std::string::npos);
}

TEST_CASE("a layer whose gzip stream ends too soon: a clear error, no image, the daemon serving (row 18)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    // An image whose only layer is cut in half, its digest and size made to match the cut bytes.
    push_edited(work, "docker://" + reg.host() + "/test/cut:1",
                "layer = manifest['layers'][0]\n"
                "data = open(blob(layer['digest']), 'rb').read()\n"
                "layer['digest'], layer['size'] = put(data[: len(data) // 2])",
                "head -c 1048576 /dev/urandom > data");
    DaemonRoot r;
    auto pulled = r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/cut:1"});
    CHECK(pulled.code == 125);
    CHECK_MESSAGE(pulled.err.find("read layer entry \"data\": unexpected end or corrupt data") != std::string::npos, pulled.err);
    auto at = pulled.err.find("container: layer ");
    REQUIRE(at != std::string::npos);
    CHECK(pulled.err.find(": layer ", at + 10) == std::string::npos);  // the layer is named once
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(r.cli({"system", "status"}).code == 0);
}

TEST_CASE("a transfer that stalls is dropped after the configured time and resumed (row 29)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    ctr::test::build_and_push(work, {"mkdir -p bin && cp /bin/busybox bin/ && head -c 2097152 /dev/urandom > big"},
                              "docker://" + reg.host() + "/test/stall:1");
    DaemonRoot r;
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[plugins.image-oci]\nstall_seconds = 2\n"));
    ctr::test::FaultProxy proxy(reg.host(), {0, false, 512 * 1024, 0, true});
    auto started = std::chrono::steady_clock::now();
    auto pulled = r.cli({"image", "pull", "--progress", "none", proxy.host() + "/test/stall:1"});
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK_MESSAGE(pulled.code == 0, pulled.err);
    CHECK(took < 25);  // dropped after ~2 s of silence, not after the proxy's 30
    auto seen = proxy.requests();
    CHECK(std::any_of(seen.begin(), seen.end(), [](const std::string& l) { return l.find("[Range: bytes=") != std::string::npos; }));
    // A bad value is the plugin's clear error at load.
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[plugins.image-oci]\nstall_seconds = 0\n"));
    CHECK(r.cli({"system", "stop"}).code == 0);
    auto plugins = r.cli({"system", "plugin", "ls"});
    CHECK(plugins.out.find("stall_seconds must be a whole number of seconds from 1 to 3600") != std::string::npos);
}

TEST_CASE("a registry away from loopback gets TLS only: no plain HTTP unless configured insecure, no untrusted certificate (row 31)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    ctr::test::build_and_push(work, {"echo far > far"}, "docker://" + reg.host() + "/test/far:1");
    ctr::test::NetnsLink link;  // an address that is not loopback, in a namespace of the test's own
    ctr::test::FaultProxy plain(reg.host(), {}, link.path(), link.inside());
    DaemonRoot r;
    auto ls_empty = [&] { return json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty(); };

    // A plain-HTTP registry: spoken to in TLS, which fails; never retried in plain HTTP.
    auto refused = r.cli({"image", "pull", "--progress", "none", plain.host() + "/test/far:1"});
    CHECK(refused.code == 125);
    CHECK_MESSAGE(refused.err.find("cannot reach registry " + plain.host()) != std::string::npos, refused.err);
    auto seen = plain.requests();
    CHECK_FALSE(seen.empty());
    CHECK(std::all_of(seen.begin(), seen.end(), [](const std::string& l) { return l == "TLS handshake"; }));
    CHECK(ls_empty());

    // A TLS server whose certificate nobody signed: refused, nothing stored.
    std::string w = work.path().string();
    ctr::test::sh("cd " + w + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=" +
                  link.inside() + " -addext subjectAltName=IP:" + link.inside() + " 2>/dev/null");
    auto tls = ctr::sys::Child::spawn({"/usr/sbin/ip", "netns", "exec", link.name(), "openssl", "s_server", "-quiet", "-www",
                                       "-accept", link.inside() + ":4443", "-cert", w + "/c.pem", "-key", w + "/k.pem"},
                                      (work.path() / "s_server.log").string());
    REQUIRE(tls.has_value());
    for (int i = 0; i < 100; ++i) {  // until it listens
        if (ctr::test::sh("ip netns exec " + link.name() + " ss -ltn").find(":4443") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto untrusted = r.cli({"image", "pull", "--progress", "none", link.inside() + ":4443/test/far:1"});
    CHECK(untrusted.code == 125);
    CHECK_MESSAGE(untrusted.err.find("certificate") != std::string::npos, untrusted.err);
    CHECK(ls_empty());
    tls->stop(1000);

    // Configured insecure, by the operator: plain HTTP to that registry, and only to it.
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                        "[plugins.image-oci]\ninsecure = [\"" + plain.host() + "\"]\n"));
    CHECK(r.cli({"system", "stop"}).code == 0);
    auto pulled = r.cli({"image", "pull", "--progress", "none", plain.host() + "/test/far:1"});
    CHECK_MESSAGE(pulled.code == 0, pulled.err);
    seen = plain.requests();
    CHECK(std::any_of(seen.begin(), seen.end(), [](const std::string& l) { return l.rfind("GET /v2/", 0) == 0; }));
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).size() == 1);
}

TEST_CASE("a layer unpacks while it downloads: its files appear before the last byte arrives" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    ctr::test::build_and_push(work, {"mkdir -p bin && cp /bin/busybox bin/ && echo first > a-first && head -c 3145728 /dev/urandom > z-big"},
                              "docker://" + reg.host() + "/test/slow:1");
    // A slow link: ~200 pauses of 15 ms over the layer, about 3 s in all.
    ctr::test::FaultProxy proxy(reg.host(), {.throttle_ms = 15});
    DaemonRoot r;
    auto state = r.path() / "var/lib/container/plugins/image-oci";
    auto pull = std::async(std::launch::async, [&] { return r.cli({"image", "pull", "--progress", "none", proxy.host() + "/test/slow:1"}); });
    bool seen_early = false;
    while (pull.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
        std::error_code ec;
        bool unpacking = false, downloading = false;
        for (const auto& d : fs::directory_iterator(state / "snapshots", ec))
            if (d.path().filename().string().find(".tmp-") != std::string::npos && fs::exists(d.path() / "fs/a-first", ec)) unpacking = true;
        for (const auto& f : fs::directory_iterator(state / "content/ingest", ec))  // the layer, still partial
            if (f.is_regular_file(ec) && f.file_size(ec) > 0) downloading = true;
        if (unpacking && downloading) seen_early = true;
    }
    auto done = pull.get();
    REQUIRE_MESSAGE(done.code == 0, done.err);
    CHECK(seen_early);
    auto run = r.cli({"run", "--rm", proxy.host() + "/test/slow:1", "/bin/busybox", "wc", "-c", "/z-big"});
    CHECK(run.out == "3145728 /z-big\n");
}

TEST_CASE("a decompression bomb stops at the configured layer size; no image is stored (row 19)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    ctr::test::build_and_push(work, {"mkdir -p bin && cp /bin/busybox bin/", "head -c 33554432 /dev/zero > zeros"},
                              "docker://" + reg.host() + "/test/bomb:1");
    DaemonRoot r;
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[plugins.image-oci]\nmax_layer_bytes = \"8m\"\n"));
    auto pulled = r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/bomb:1"});
    CHECK(pulled.code == 125);
    CHECK_MESSAGE(pulled.err.find("expands past 8388608 bytes (the image-oci setting max_layer_bytes)") != std::string::npos, pulled.err);
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    // The other layer's snapshot may stay (shared, collected later); nothing of the bomb's does.
    std::error_code ec;
    for (const auto& snap : fs::directory_iterator(r.path() / "var/lib/container/plugins/image-oci/snapshots", ec)) {
        CHECK_MESSAGE(snap.path().filename().string().find(".tmp-") == std::string::npos, snap.path().string());
        CHECK_FALSE(fs::exists(snap.path() / "fs/zeros"));
    }
    CHECK(r.cli({"system", "status"}).code == 0);
}

TEST_CASE("a disk that fills during a pull: a clear error, no half image, the daemon serving (row 32)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    ctr::test::build_and_push(work, {"mkdir -p bin && cp /bin/busybox bin/ && head -c 6291456 /dev/urandom > big"},
                              "docker://" + reg.host() + "/test/big:1");
    DaemonRoot r;
    // The store on a 4 MiB tmpfs: the 6 MiB layer cannot fit.
    fs::path store = r.path() / "var/lib/container";
    fs::create_directories(store);
    REQUIRE(::mount("tmpfs", store.c_str(), "tmpfs", 0, "size=4m,mode=0700") == 0);
    struct Unmount {
        fs::path path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{store};
    auto pulled = r.cli({"image", "pull", "--progress", "none", reg.host() + "/test/big:1"});
    CHECK(pulled.code == 125);
    CHECK_MESSAGE(pulled.err.find("No space left on device") != std::string::npos, pulled.err);
    CHECK(pulled.err.find(store.string()) != std::string::npos);  // it names the path
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(r.cli({"system", "status"}).code == 0);
    // No snapshot and no finished blob of the layer were left; the partial download may stay to be resumed.
    auto count = [](const fs::path& d) {
        std::error_code ec;
        return std::distance(fs::directory_iterator(d, ec), fs::directory_iterator());
    };
    CHECK(count(store / "plugins/image-oci/snapshots") == 0);
    CHECK(r.cli({"system", "stop"}).code == 0);
}

TEST_CASE("kill -9 of the daemon mid-pull: no half image after the restart, and the next pull resumes the download (row 34)" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    ctr::test::build_and_push(work, {"mkdir -p bin && cp /bin/busybox bin/ && head -c 4194304 /dev/urandom > big"},
                              "docker://" + reg.host() + "/test/slow:1");
    DaemonRoot r;
    r.start();
    std::string image;
    {
        // A slow link: 16 KiB every 20 ms. The pull is under way when the daemon dies.
        ctr::test::FaultProxy slow(reg.host(), {0, false, -1, 20});
        image = slow.host() + "/test/slow:1";
        auto pull = std::async(std::launch::async, [&] { return r.cli({"image", "pull", "--progress", "none", image}); });
        for (int i = 0; i < 200; ++i) {
            auto seen = slow.requests();
            if (std::count_if(seen.begin(), seen.end(), [](const std::string& l) { return l.find("/blobs/") != std::string::npos; }) >= 2) break;
            usleep(20000);
        }
        // Some bytes of the big layer are in: a partial blob of 64 KiB or more.
        auto partial = [&] {
            std::error_code ec;
            for (const auto& e : fs::recursive_directory_iterator(r.path() / "var/lib/container/plugins/image-oci/content/ingest", ec))
                if (e.is_regular_file(ec) && e.file_size(ec) >= 65536) return true;
            return false;
        };
        for (int i = 0; i < 500 && !partial(); ++i) usleep(20000);
        REQUIRE(partial());
        r.kill9();
        CHECK(pull.get().code != 0);
    }
    r.start();
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).empty());  // nothing half-made shows
    // The same registry without faults, through a proxy that notes the requests: the partial blob goes on.
    ctr::test::FaultProxy clean(reg.host(), {});
    auto again = r.cli({"image", "pull", "--progress", "none", clean.host() + "/test/slow:1"});
    CHECK_MESSAGE(again.code == 0, again.err);
    auto seen = clean.requests();
    CHECK(std::any_of(seen.begin(), seen.end(), [](const std::string& l) { return l.find("[Range: bytes=") != std::string::npos; }));
    CHECK(r.cli({"run", "--rm", "--network", "none", clean.host() + "/test/slow:1", "/bin/busybox", "stat", "-c", "%s", "/big"}).out ==
          "4194304\n");
}

TEST_CASE("a two-platform index: the host's platform by default, --platform to choose, a clear error for none" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    std::string w = work.path().string();
    ctr::test::build_and_push(work, {"echo amd > arch"}, "docker://" + reg.host() + "/test/multi:amd64");
    // A second image for arm64, then an index over both, written by hand into the layout.
    ctr::test::sh("cd " + w + " && rm -rf B && umoci unpack --image L:t B >/dev/null && echo arm > B/rootfs/arch && "
                  "umoci repack --image L:arm B >/dev/null && umoci config --image L:arm --architecture arm64 --tag arm >/dev/null && "
                  "m1=$(jq -c '.manifests[] | select(.annotations[\"org.opencontainers.image.ref.name\"]==\"t\") | del(.annotations)' L/index.json) && "
                  "m2=$(jq -c '.manifests[] | select(.annotations[\"org.opencontainers.image.ref.name\"]==\"arm\") | del(.annotations)' L/index.json) && "
                  "idx=$(jq -cn --argjson a \"$m1\" --argjson b \"$m2\" '{schemaVersion:2, mediaType:\"application/vnd.oci.image.index.v1+json\", "
                  "manifests:[($a + {platform:{os:\"linux\",architecture:\"amd64\"}}), ($b + {platform:{os:\"linux\",architecture:\"arm64\"}})]}') && "
                  "printf '%s' \"$idx\" > idx.json && h=$(sha256sum idx.json | cut -d' ' -f1) && cp idx.json L/blobs/sha256/$h && "
                  "jq --arg h $h --argjson s $(stat -c %s idx.json) '.manifests += [{mediaType:\"application/vnd.oci.image.index.v1+json\", "
                  "digest:(\"sha256:\"+$h), size:$s, annotations:{\"org.opencontainers.image.ref.name\":\"multi\"}}]' L/index.json > i2 && mv i2 L/index.json && "
                  "skopeo copy --quiet --all --dest-tls-verify=false oci:L:multi docker://" + reg.host() + "/test/multi:1");
    auto plugin = load_image_plugin(work.path() / "state");
    std::string ref = reg.host() + "/test/multi:1";
    auto host = pull(*plugin, {{"reference", ref}});
    REQUIRE_MESSAGE(host.has_value(), (host ? "" : host.error().message));
    CHECK((*host)["platform"] == "linux/amd64");
    CHECK((*host)["config"]["architecture"] == "amd64");
    auto arm = pull(*plugin, {{"reference", ref}, {"platform", "linux/arm64"}});
    REQUIRE_MESSAGE(arm.has_value(), (arm ? "" : arm.error().message));
    CHECK((*arm)["config"]["architecture"] == "arm64");
    auto none = pull(*plugin, {{"reference", ref}, {"platform", "linux/riscv64"}});
    REQUIRE_FALSE(none);
    CHECK(none.error().message == "no image for platform linux/riscv64 (available: linux/amd64, linux/arm64)");
}

TEST_CASE("basic auth: refused without credentials or with wrong ones, pulled with the right ones" * CTR_NEEDS_ROOT) {
    Registry reg({"alice:s3cret"});
    ScratchDir work;
    std::string ref = reg.host() + "/private/app:1";
    ctr::test::build_and_push(work, {"echo hi > hello"}, "docker://" + ref, "gzip", "alice:s3cret");
    auto plugin = load_image_plugin(work.path() / "state");
    auto anon = pull(*plugin, {{"reference", ref}});
    REQUIRE_FALSE(anon);
    CHECK(anon.error().status == CTR_E_PERMISSION_DENIED);
    CHECK(anon.error().message == "authentication required for " + reg.host());
    auto wrong = pull(*plugin, {{"reference", ref}, {"auth", {{"username", "alice"}, {"password", "nope"}}}});
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().status == CTR_E_PERMISSION_DENIED);
    auto ok = pull(*plugin, {{"reference", ref}, {"auth", {{"username", "alice"}, {"password", "s3cret"}}}});
    REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : ok.error().message));
}

TEST_CASE("two concurrent pulls of one image both succeed and store each blob once" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    std::string ref = reg.host() + "/test/big:1";
    ctr::test::build_and_push(work, {"head -c 20000000 /dev/urandom > blob1", "head -c 20000000 /dev/urandom > blob2"},
                              "docker://" + ref);
    auto plugin = load_image_plugin(work.path() / "state");
    auto f1 = std::async(std::launch::async, [&] { return pull(*plugin, {{"reference", ref}}); });
    auto f2 = std::async(std::launch::async, [&] { return pull(*plugin, {{"reference", ref}}); });
    auto r1 = f1.get();
    auto r2 = f2.get();
    REQUIRE_MESSAGE(r1.has_value(), (r1 ? "" : r1.error().message));
    REQUIRE_MESSAGE(r2.has_value(), (r2 ? "" : r2.error().message));
    CHECK((*r1)["digest"] == (*r2)["digest"]);
    auto blobs = std::distance(fs::directory_iterator(work.path() / "state/content/blobs/sha256"), fs::directory_iterator());
    CHECK(blobs == 4);  // manifest, config, two layers
    CHECK(fs::is_empty(work.path() / "state/content/ingest"));
}

TEST_CASE("registry login: pulls from that registry use it, no other registry ever gets it; logout forgets it" * CTR_NEEDS_ROOT) {
    Registry a({"alice:s3cret"}), b({"alice:s3cret"});
    ScratchDir work;
    ctr::test::build_and_push(work, {"echo hi > hello"}, "docker://" + a.host() + "/private/app:1", "gzip", "alice:s3cret");
    ctr::test::build_and_push(work, {"echo hi > hello"}, "docker://" + b.host() + "/private/app:1", "gzip", "alice:s3cret");
    DaemonRoot r;
    auto anon = r.cli({"image", "pull", a.host() + "/private/app:1"});
    CHECK(anon.code == 125);
    CHECK(anon.err.find("authentication required for " + a.host()) != std::string::npos);

    auto login = r.cli({"registry", "login", "-u", "alice", "-p", "s3cret", "http://" + a.host() + "/"});
    REQUIRE_MESSAGE(login.code == 0, login.err);
    CHECK(login.out == "Login stored for " + a.host() + "\n");
    auto file = r.path() / "var/lib/container/auth.json";
    CHECK((fs::status(file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    auto auths = json::parse(*ctr::sys::read_file(file));
    CHECK(auths["auths"].contains(a.host()));
    auto ls = json::parse(r.cli({"registry", "ls", "--format", "json"}).out);
    REQUIRE(ls.size() == 1);
    CHECK(ls[0]["username"] == "alice");
    CHECK_FALSE(ls[0].contains("password"));

    CHECK(r.cli({"image", "pull", "--progress", "none", a.host() + "/private/app:1"}).code == 0);
    // The same user exists on b, but the login is a's: b never receives it.
    auto other = r.cli({"image", "pull", "--progress", "none", b.host() + "/private/app:1"});
    CHECK(other.code == 125);
    CHECK(other.err.find("authentication required for " + b.host()) != std::string::npos);

    CHECK(r.cli({"registry", "logout", a.host()}).code == 0);
    CHECK(r.cli({"registry", "ls", "-q"}).out.empty());
    CHECK(r.cli({"image", "rm", a.host() + "/private/app:1"}).code == 0);
    CHECK(r.cli({"image", "pull", a.host() + "/private/app:1"}).code == 125);
    auto again = r.cli({"registry", "logout", a.host()});
    CHECK(again.code == 125);
    CHECK(again.err.find("not logged in to " + a.host()) != std::string::npos);
}

TEST_CASE("image tag, save and load: an OCI archive others can read, docker save archives, clear errors" * CTR_NEEDS_ROOT) {
    Registry reg;
    ScratchDir work;
    std::string ref = reg.host() + "/test/saved:1";
    ctr::test::build_and_push(work, ctr::test::kBusyboxImage, "docker://" + ref);
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", ref}).code == 0);
    auto tagged = r.cli({"image", "tag", ref, "local/renamed:2"});
    CHECK(tagged.code == 0);
    CHECK(tagged.out == "docker.io/local/renamed:2\n");
    CHECK(r.cli({"run", "--rm", "--network", "none", "local/renamed:2", "echo", "by-tag"}).out == "by-tag\n");
    CHECK(r.cli({"image", "tag", "no/such:1", "x/y:1"}).code == 125);

    auto archive = work.path() / "images.tar";
    auto saved = r.cli({"image", "save", "-o", archive.string(), "local/renamed:2", ref});
    REQUIRE_MESSAGE(saved.code == 0, saved.err);
    // skopeo reads it as an OCI archive, by tag.
    auto inspected = ctr::test::sh("skopeo inspect oci-archive:" + archive.string() + ":2");
    CHECK(inspected.find("\"Layers\"") != std::string::npos);

    // Into a fresh root: the images come back and run.
    DaemonRoot fresh;
    auto loaded = fresh.cli({"image", "load", "-i", archive.string()});
    REQUIRE_MESSAGE(loaded.code == 0, loaded.err);
    CHECK(loaded.out.find("Loaded image: docker.io/local/renamed:2\n") != std::string::npos);
    CHECK(loaded.out.find("Loaded image: " + ref + "\n") != std::string::npos);
    CHECK(fresh.cli({"run", "--rm", "--network", "none", ref, "echo", "from-archive"}).out == "from-archive\n");

    // A `docker save` archive (made by skopeo) loads too.
    auto docker_tar = work.path() / "docker.tar";
    ctr::test::sh("skopeo copy --quiet --src-tls-verify=false docker://" + ref + " docker-archive:" + docker_tar.string() + ":dock/er:3");
    auto dl = fresh.cli({"image", "load", "-i", docker_tar.string()});
    REQUIRE_MESSAGE(dl.code == 0, dl.err);
    CHECK(dl.out == "Loaded image: docker.io/dock/er:3\n");
    CHECK(fresh.cli({"run", "--rm", "--network", "none", "dock/er:3", "echo", "from-docker"}).out == "from-docker\n");

    // Bad archives: clear errors, nothing stored.
    REQUIRE(ctr::sys::write_file_atomic(work.path() / "junk.tar", "not a tar at all"));
    auto junk = fresh.cli({"image", "load", "-i", (work.path() / "junk.tar").string()});
    CHECK(junk.code == 125);
    ctr::test::sh("cd " + work.path().string() + " && mkdir -p e && echo '{}' > e/other.json && tar cf empty.tar -C e other.json");
    auto empty = fresh.cli({"image", "load", "-i", (work.path() / "empty.tar").string()});
    CHECK(empty.code == 125);
    CHECK(empty.err.find("neither an OCI layout") != std::string::npos);
    // A blob whose content does not match its name is refused (in a root
    // that does not have it yet: one that has it keeps its own copy).
    ctr::test::sh("cd " + work.path().string() + " && rm -rf t && mkdir t && tar xf images.tar -C t && "
                  "for f in t/blobs/sha256/*; do if [ $(stat -c %s $f) -gt 100000 ]; then echo tampered >> $f; fi; done && "
                  "tar cf tampered.tar -C t .");
    DaemonRoot third;
    auto tampered = third.cli({"image", "load", "-i", (work.path() / "tampered.tar").string()});
    CHECK(tampered.code == 125);
    CHECK(tampered.err.find("digest") != std::string::npos);
    CHECK(json::parse(third.cli({"image", "ls", "--format", "json"}).out).empty());
    CHECK(json::parse(fresh.cli({"image", "ls", "--format", "json"}).out).size() == 3);
}

TEST_CASE("image push: blobs the registry lacks, then the manifest; with the stored login; progress per blob" * CTR_NEEDS_ROOT) {
    Registry source;
    Registry secured({"bob:pushpw"});
    ScratchDir work;
    std::string ref = source.host() + "/test/orig:1";
    ctr::test::build_and_push(work, ctr::test::kBusyboxImage, "docker://" + ref);
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", ref}).code == 0);
    std::string target = secured.host() + "/team/copy:5";
    REQUIRE(r.cli({"image", "tag", ref, target}).code == 0);
    // Without a login the registry says no, and the error says so.
    auto denied = r.cli({"image", "push", "--progress", "none", target});
    CHECK(denied.code == 125);
    CHECK(denied.err.find("authentication") != std::string::npos);
    REQUIRE(r.cli({"registry", "login", "-u", "bob", "-p", "pushpw", secured.host()}).code == 0);
    auto pushed = r.cli({"image", "push", "--progress", "plain", target});
    REQUIRE_MESSAGE(pushed.code == 0, pushed.err);
    CHECK(pushed.err.find(": upload") != std::string::npos);
    CHECK(pushed.err.find(": done") != std::string::npos);
    // Again: the registry has every blob, nothing is uploaded.
    auto again = r.cli({"image", "push", "--progress", "plain", target});
    REQUIRE(again.code == 0);
    CHECK(again.err.find(": upload") == std::string::npos);
    CHECK(again.err.find(": exists") != std::string::npos);
    // Another root pulls it back (with the login) and runs it.
    DaemonRoot other;
    REQUIRE(other.cli({"registry", "login", "-u", "bob", "-p", "pushpw", secured.host()}).code == 0);
    REQUIRE(other.cli({"image", "pull", "--progress", "none", target}).code == 0);
    CHECK(other.cli({"run", "--rm", "--network", "none", target, "echo", "pushed-and-pulled"}).out == "pushed-and-pulled\n");
    CHECK(r.cli({"image", "push", "no.such/image:1"}).code == 125);
}

TEST_CASE("image import makes a one-layer image from a rootfs tarball (gzip, plain on stdin); not a tar is refused" * CTR_NEEDS_ROOT) {
    ScratchDir work;
    ctr::test::sh("cd " + work.path().string() + " && mkdir -p r/bin && cp /bin/busybox r/bin/ && ln -s busybox r/bin/sh && "
                  "ln -s busybox r/bin/echo && echo inside > r/marker && tar czf root.tgz -C r . && tar cf root.tar -C r .");
    DaemonRoot r;
    auto gz = r.cli({"image", "import", (work.path() / "root.tgz").string(), "local/imported:1"});
    REQUIRE_MESSAGE(gz.code == 0, gz.err);
    CHECK(gz.out.find("docker.io/local/imported:1\nsha256:") == 0);
    CHECK(r.cli({"run", "--rm", "--network", "none", "local/imported:1", "sh", "-c", "echo $(cat /marker 2>/dev/null || echo no-cat)"}).code == 0);
    auto inspect = json::parse(r.cli({"image", "inspect", "local/imported:1"}).out)[0];
    CHECK(inspect["config"]["rootfs"]["diff_ids"].size() == 1);
    CHECK(inspect["config"]["os"] == "linux");
    auto plain = ctr::test::sh("cd " + work.path().string() + " && " + (ctr::test::build_root() / "host/container").string() +
                               " --root " + r.root() + " image import - local/imported:plain < root.tar");
    CHECK(plain.find("docker.io/local/imported:plain\n") == 0);
    CHECK(r.cli({"run", "--rm", "--network", "none", "local/imported:plain", "echo", "plain-ok"}).out == "plain-ok\n");
    REQUIRE(ctr::sys::write_file_atomic(work.path() / "junk", "junk"));
    auto junk = r.cli({"image", "import", (work.path() / "junk").string(), "x/y:1"});
    CHECK(junk.code == 125);
    CHECK(junk.err.find("is not a tar") != std::string::npos);
    CHECK(r.cli({"image", "import", (work.path() / "root.tgz").string(), "x/y@sha256:" + std::string(64, 'a')}).code == 125);
    CHECK(json::parse(r.cli({"image", "ls", "--format", "json"}).out).size() == 2);
}
