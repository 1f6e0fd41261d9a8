// RUN and COPY: each through a container of the stage's image, made by the
// container service like any other (so the runtime plugin, its isolation and
// the network are a container's), labelled as the builder's and removed
// after; its overlay upper directory becomes the step's layer.
#include "apiserver/build/build_run.hpp"

#include "apiserver/copy_routes.hpp"
#include "copy/layer_diff.hpp"
#include "copy/tar_tree.hpp"

#include <ctr/pluginhost/call.hpp>
#include <ctr/sys/log_index.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <random>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;
using nlohmann::json;

std::string scratch_name(const std::string& what) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return what + "-" + buf;
}

ContainerGuard::~ContainerGuard() {
    if (auto st = cs.remove(id, true, true); !st) spdlog::warn("build: remove container {}: {}", id, st.error().message);
}

ScratchFile::~ScratchFile() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
}

Result<store::ContainerRecord> BuildRun::make_container(const StageState& s, json body) {
    body["image"] = s.ref;
    body["name"] = scratch_name("build");
    body["labels"] = {{kBuildLabel, "1"}};
    body["env"] = run_env(s);
    const json& cfg = s.image["config"];
    if (cfg.contains("WorkingDir") && cfg["WorkingDir"].is_string() && !cfg["WorkingDir"].get<std::string>().empty())
        body["workdir"] = cfg["WorkingDir"];
    if (cfg.contains("User") && cfg["User"].is_string() && !cfg["User"].get<std::string>().empty()) body["user"] = cfg["User"];
    if (!req_.runtime.empty()) body["runtime"] = req_.runtime;
    return cs_.create(body);
}

Result<std::string> BuildRun::layer_of(const store::ContainerRecord& c, const std::vector<std::string>& mount_points) {
    auto now = CTR_TRY(cs_.get(c.id));
    const std::string upper = now.settings().writable_dir;
    if (upper.empty()) return make_error(CTR_E_UNSUPPORTED, "the image plugin does not say where a container's writes land (writable_dir): no layer can be made");
    // The files the daemon mounts over (/etc/hosts, /etc/resolv.conf,
    // /etc/hostname) leave empty mount points behind: not the build's.
    for (const char* own : {"etc/hosts", "etc/resolv.conf", "etc/hostname"}) {
        struct stat st {};
        fs::path p = fs::path(upper) / own;
        if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) ::unlink(p.c_str());
    }
    strip_mount_points(upper, mount_points);
    // Where the runtime mounts /dev, /proc and /sys it may have made the
    // folder: not the build's (BuildKit leaves them out too).
    strip_mount_points(upper, {"/dev", "/proc", "/sys"});
    fs::path out = scratch_file("layer");
    auto written = copy::write_layer(upper, out);
    if (!written) {
        std::error_code ec;
        fs::remove(out, ec);
        return written.error();
    }
    return out.string();
}

Result<std::string> BuildRun::run_step(const StageState& s, const ctr::build::Instruction& ins, const std::vector<std::string>& argv) {
    json body = {{"cmd", argv}, {"entrypoint", json::array()}};
    auto mounts = CTR_TRY(run_mounts(s, ins));
    if (!mounts.volumes.empty()) body["volumes"] = mounts.volumes;
    if (!mounts.tmpfs.empty()) body["tmpfs"] = mounts.tmpfs;
    if (ins.flag("network") == "none") body["networks"] = json::array({"none"});
    if (ins.flag("network") == "host") body["networks"] = json::array({"host"});
    auto c = CTR_TRY(make_container(s, body));
    ContainerGuard guard{cs_, c.id};
    CTR_TRY(cs_.start(c.id));
    // Its output as it comes: both logs read from where they were.
    std::streamoff offsets[2] = {0, 0};
    auto quiet_since = std::chrono::steady_clock::now();
    auto relay = [&] {
        const char* names[2] = {"stdout.log", "stderr.log"};
        for (int i = 0; i < 2; ++i) {
            const fs::path log = cs_.dir_of(c.id) / names[i];
            std::ifstream in(log, std::ios::binary);
            if (!in) continue;
            offsets[i] = std::max<std::streamoff>(offsets[i], sys::log_start(log));  // past what the log's bound freed
            in.seekg(offsets[i]);
            std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            offsets[i] += static_cast<std::streamoff>(chunk.size());
            if (!chunk.empty()) {
                progress_({{"output", chunk}});
                quiet_since = std::chrono::steady_clock::now();
            }
        }
        // A RUN that prints nothing still writes now and then: a client that
        // left (Ctrl-C) is noticed, and the step ended.
        if (std::chrono::steady_clock::now() - quiet_since > std::chrono::seconds(1)) {
            progress_({{"tick", true}});
            quiet_since = std::chrono::steady_clock::now();
        }
    };
    for (;;) {
        auto now = CTR_TRY(cs_.get(c.id));
        relay();
        if (now.state != store::ContainerState::running && now.state != store::ContainerState::creating) {
            relay();
            int code = static_cast<int>(now.exit_code.value_or(255));
            if (code != 0)
                return ctr::build::instruction_error(plan_.file, ins, "RUN failed with exit code " + std::to_string(code) + " (step " +
                                                                          std::to_string(step_no_) + ")");
            break;
        }
        if (cancelled_ || d_.stopping) {
            (void)cs_.kill(c.id, 9);
            return make_error(CTR_E_CANCELLED, "build cancelled");
        }
        cs_.wait_for_shim(c.id, 200, true);
    }
    return layer_of(c, mounts.targets);
}

// The destination of a COPY in container `c`: relative to WORKDIR; a
// directory when it ends in '/', when `dir_hint` says so (several sources, a
// directory's contents), or when the image has a directory there.
Result<BuildRun::Placement> BuildRun::place(const StageState& s, const store::ContainerRecord& c, const std::string& dest_word, bool dir_hint) {
    std::string workdir = s.image["config"].value("WorkingDir", std::string("/"));
    if (workdir.empty()) workdir = "/";
    fs::path dest = dest_word.empty() || dest_word[0] != '/' ? fs::path(workdir) / dest_word : fs::path(dest_word);
    std::string d = dest.lexically_normal().string();
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    Placement p{d == "/" ? "" : d.substr(1), dir_hint || dest_word.empty() || dest_word.back() == '/'};
    auto hold = CTR_TRY(cs_.hold_rootfs(c));
    struct stat st {};
    fs::path in_root = cs_.dir_of(c.id) / "rootfs" / p.rel;
    if (::lstat(in_root.c_str(), &st) == 0) {
        p.exists = true;
        if (S_ISDIR(st.st_mode)) p.dir = true;
    }
    return p;
}

fs::path BuildRun::scratch_file(const std::string& what) const {
    fs::path dir = d_.paths.lib_dir() / "build";
    std::error_code ec;
    fs::create_directories(dir, ec);
    return dir / (scratch_name(what) + ".tar");
}

// The tar at `tar` unpacked into the root of `c` (owners as written), and
// the change as the step's layer.
Result<std::string> BuildRun::land(const ctr::build::Instruction& ins, const store::ContainerRecord& c, const fs::path& tar) {
    int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(CTR_E_INTERNAL, "open the copy: " + std::string(std::strerror(errno)));
    sys::UniqueFd owned(fd);
    BodySource read = [fd](char* buf, size_t n) -> long { return static_cast<long>(::read(fd, buf, n)); };
    auto st = extract_into(cs_, c, "/", read, true);
    if (!st) return ctr::build::instruction_error(plan_.file, ins, st.error().message);
    return layer_of(c);
}

Result<std::string> BuildRun::copy_step(const StageState& s, const ctr::build::Instruction& ins, const Context& context, const CopyPlan& plan) {
    auto c = CTR_TRY(make_container(s, json{{"cmd", json::array({"true"})}, {"entrypoint", json::array()}, {"networks", json::array({"none"})}}));
    ContainerGuard guard{cs_, c.id};
    const auto& sources = plan.sources;
    auto where = CTR_TRY(place(s, c, plan.dest, sources.size() > 1 || (sources.size() == 1 && sources[0].directory)));
    auto owner = owner_in(c, plan);
    if (!owner) return ctr::build::instruction_error(plan_.file, ins, owner.error().message);
    auto [uid, gid] = *owner;
    ScratchFile tar{scratch_file("copy")};
    // ADD keeps an archive's own owners unless --chown says otherwise.
    const long keep = plan.extract && plan.chown.empty() ? -1 : 0;
    CTR_TRY_STATUS(context.write_tar(sources, where.rel, where.dir, keep < 0 ? -1 : uid, keep < 0 ? -1 : gid, plan.chmod, tar.path,
                                     where.dir && !where.exists, plan.extract));
    return land(ins, c, tar.path);
}

Result<std::string> BuildRun::workdir_step(const StageState& s, const ctr::build::Instruction& ins) {
    std::string dir = fs::path(s.image["config"].value("WorkingDir", std::string("/"))).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (dir.empty() || dir == "/" || dir.rfind("/..", 0) == 0) return std::string();
    auto c = CTR_TRY(make_container(s, json{{"cmd", json::array({"true"})}, {"entrypoint", json::array()}, {"networks", json::array({"none"})}}));
    ContainerGuard guard{cs_, c.id};
    // Asked through the helper: the path resolves inside the image's root.
    if (auto st = path_stat(cs_, c, dir, true); st && st->value("kind", "") != "missing") return std::string();
    ScratchFile tar{scratch_file("workdir")};
    {
        struct archive* a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_open_filename(a, tar.path.c_str());
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, dir.substr(1).c_str());
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, ::time(nullptr), 0);
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
        if (r < ARCHIVE_WARN) return make_error(CTR_E_INTERNAL, "WORKDIR: cannot write its folder's entry");
    }
    return land(ins, c, tar.path);
}

Status BuildRun::write_output(const StageState& s) {
    const fs::path dest = req_.output_dest;
    std::error_code ec;
    if (req_.output_type == "oci") {
        auto* p = CTR_TRY(d_.image_plugin());
        if (!p->image()->save) return make_error(CTR_E_UNIMPLEMENTED, "-o type=oci: the image plugin cannot save images");
        auto saved = pluginhost::invoke(p->image()->save, p->instance(), {{"references", {s.ref}}, {"output", dest.string()}}, "save");
        if (!saved) return saved.error().wrap("-o type=oci");
        return ok();
    }
    auto c = CTR_TRY(make_container(s, json{{"cmd", json::array({"true"})}, {"entrypoint", json::array()}, {"networks", json::array({"none"})}}));
    ContainerGuard guard{cs_, c.id};
    auto stream = CTR_TRY(path_tar(cs_, c, "/", "."));
    fs::path tar = req_.output_type == "tar" ? dest : scratch_file("output");
    ScratchFile remove_later{req_.output_type == "tar" ? fs::path() : tar};
    {
        std::ofstream out(tar, std::ios::binary | std::ios::trunc);
        if (!out) return make_error(CTR_E_INTERNAL, "-o: cannot write \"" + tar.string() + "\"");
        stream([&out](std::string_view chunk) { return static_cast<bool>(out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))); });
    }
    if (req_.output_type == "tar") return ok();
    fs::create_directories(dest, ec);
    if (ec) return make_error(CTR_E_INTERNAL, "-o type=local: cannot make \"" + dest.string() + "\": " + ec.message());
    sys::UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    copy::ExtractOptions o;
    o.raw = true;
    o.dest = dest.string();
    o.keep_owner = true;
    return copy::extract_tree(fd.get(), o);
}

namespace {

// The id of `name` in an /etc/passwd or /etc/group text (the third field).
std::optional<long> id_in(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        size_t a = line.find(':');
        if (a == std::string::npos || line.substr(0, a) != name) continue;
        size_t b = line.find(':', a + 1), c = line.find(':', b + 1);
        if (b == std::string::npos || c == std::string::npos) return std::nullopt;
        try {
            return std::stol(line.substr(b + 1, c - b - 1));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

bool numeric(const std::string& v) { return !v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos; }

}  // namespace

Result<std::pair<long, long>> BuildRun::owner_in(const store::ContainerRecord& c, const CopyPlan& plan) {
    if (plan.chown.empty()) return std::pair<long, long>{0, 0};
    size_t colon = plan.chown.find(':');
    std::string user = plan.chown.substr(0, colon), group = colon == std::string::npos ? "" : plan.chown.substr(colon + 1);
    std::string passwd, groups;
    if (!numeric(user) || (!group.empty() && !numeric(group))) {
        auto hold = CTR_TRY(cs_.hold_rootfs(c));
        // Read in the image's root; a link there could lead out: refused.
        fs::path etc = cs_.dir_of(c.id) / "rootfs" / "etc";
        auto read_plain = [](const fs::path& p) -> std::string {
            struct stat st {};
            if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
            std::ifstream in(p, std::ios::binary);
            return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        };
        struct stat st {};
        if (::lstat(etc.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            passwd = read_plain(etc / "passwd");
            groups = read_plain(etc / "group");
        }
    }
    long uid = 0, gid = 0;
    if (numeric(user)) uid = std::stol(user);
    else if (auto u = id_in(passwd, user)) uid = *u;
    else return make_error(CTR_E_NOT_FOUND, "--chown=" + plan.chown + ": no user \"" + user + "\" in the image's /etc/passwd");
    if (group.empty()) {
        // The user's own group: its passwd line's fourth field, else the same number.
        gid = uid;
        std::istringstream in(passwd);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(user + ":", 0) == 0) {
                std::vector<std::string> f;
                std::istringstream fields(line);
                for (std::string part; std::getline(fields, part, ':');) f.push_back(part);
                if (f.size() > 3 && numeric(f[3])) gid = std::stol(f[3]);
                break;  // the first line of a name is the one getpwnam finds
            }
    } else if (numeric(group)) {
        gid = std::stol(group);
    } else if (auto g = id_in(groups, group)) {
        gid = *g;
    } else {
        return make_error(CTR_E_NOT_FOUND, "--chown=" + plan.chown + ": no group \"" + group + "\" in the image's /etc/group");
    }
    return std::pair<long, long>{uid, gid};
}

void Builder::remove_leftovers() {
    auto list = cs_.list();
    if (!list) return;
    for (const auto& c : *list)
        if (c.labels.is_object() && c.labels.contains(kBuildLabel)) (void)cs_.remove(c.id, true, true);
    // Scratch files of builds that did not finish; the cache mounts stay.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d_.paths.lib_dir() / "build", ec))
        if (e.path().filename() != "cache-mounts") fs::remove_all(e.path(), ec);
}

}  // namespace ctr::apiserver::build
