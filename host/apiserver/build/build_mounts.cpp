// RUN --mount: type=cache (a folder of the builder's that outlives builds,
// keyed by id), type=tmpfs, type=bind (read-only, from the context, or with
// from= from a stage or an image), and
// type=secret (a --secret mounted read-only at /run/secrets/ID for this RUN
// only). They become the step container's volumes and tmpfs; the mount
// points they leave in its upper directory are taken out of the layer.
#include "apiserver/build/build_run.hpp"

#include "services/mount_targets.hpp"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::map<std::string, std::string> options_of(const std::string& spec) {
    std::map<std::string, std::string> out;
    size_t i = 0;
    while (i <= spec.size()) {
        size_t j = spec.find(',', i);
        if (j == std::string::npos) j = spec.size();
        std::string part = spec.substr(i, j - i);
        size_t eq = part.find('=');
        if (!part.empty()) out[part.substr(0, eq)] = eq == std::string::npos ? "true" : part.substr(eq + 1);
        i = j + 1;
    }
    return out;
}

std::string source_of(std::map<std::string, std::string>& o) { return o.count("source") ? o["source"] : o.count("src") ? o["src"] : "."; }

bool truthy(const std::map<std::string, std::string>& o, const std::string& k) {
    auto it = o.find(k);
    return it != o.end() && (it->second == "true" || it->second == "1");
}

}  // namespace

Result<BuildRun::RunMounts> BuildRun::run_mounts(const StageState& s, const ctr::build::Instruction& ins) {
    RunMounts m;
    std::string workdir = s.image["config"].value("WorkingDir", std::string("/"));
    if (workdir.empty()) workdir = "/";
    for (const auto& [name, value] : ins.flags) {
        if (name != "mount") continue;
        auto bad = [&](const std::string& why) { return ctr::build::instruction_error(plan_.file, ins, "--mount=" + value + ": " + why); };
        auto o = options_of(value);
        std::string type = o.count("type") ? o["type"] : "bind";
        std::string target = o.count("target") ? o["target"] : o.count("dst") ? o["dst"] : o.count("destination") ? o["destination"] : "";
        if (type == "secret") {
            std::string id = o.count("id") ? o["id"] : fs::path(target).filename().string();
            if (id.empty()) return bad("a secret needs an id");
            if (target.empty()) target = "/run/secrets/" + id;
            auto it = req_.secrets.find(id);
            if (it == req_.secrets.end()) {
                if (truthy(o, "required")) return bad("no secret \"" + id + "\" was given (--secret id=" + id + ",src=FILE)");
                continue;
            }
            m.volumes.push_back(it->second + ":" + target + ":ro");
            m.targets.push_back(target);
            continue;
        }
        if (target.empty()) return bad("a target is required");
        if (target[0] != '/') target = (fs::path(workdir) / target).lexically_normal().string();
        if (type == "cache") {
            std::string id = o.count("id") ? o["id"] : target;
            fs::path dir = d_.paths.lib_dir() / "build" / "cache-mounts" / sha256_hex(id).substr(0, 32);
            std::error_code ec;
            fs::create_directories(dir, ec);
            if (ec) return bad("cannot make its folder: " + ec.message());
            m.volumes.push_back(dir.string() + ":" + target + (truthy(o, "ro") || truthy(o, "readonly") ? ":ro" : ""));
        } else if (type == "tmpfs") {
            m.tmpfs.push_back(o.count("size") ? target + ":size=" + o["size"] : target);
        } else if (type == "bind" && o.count("from")) {
            auto bound = bind_from(ins, o["from"], source_of(o));
            if (!bound) return bad(bound.error().message);
            m.volumes.push_back(bound->first + ":" + target + (truthy(o, "rw") || truthy(o, "readwrite") ? "" : ":ro"));
            m.held.push_back(bound->second);
        } else if (type == "bind") {
            if (truthy(o, "rw") || truthy(o, "readwrite")) return bad("a writable bind of the context is not supported (its writes would reach your files)");
            if (!context_) return bad("this build has no context to bind");
            auto found = context_->sources(source_of(o));
            if (!found || found->size() != 1) return bad(found ? "the source names more than one path" : found.error().message);
            m.volumes.push_back((*found)[0].path.string() + ":" + target + ":ro");
        } else {
            return bad("type " + type + " is not supported (cache, tmpfs, bind and secret are)");
        }
        m.targets.push_back(target);
    }
    return m;
}

// A container of the image, its root filesystem mounted while the step
// runs: the bind's source is a path in it, resolved as that image sees it
// (its symlinks followed inside its root; the image cannot change). Writes
// through a writable bind land in that container's upper layer, dropped with
// it, as BuildKit drops them.
Result<std::pair<std::string, std::shared_ptr<void>>> BuildRun::bind_from(const ctr::build::Instruction& ins, const std::string& from,
                                                                          const std::string& source) {
    StageState image;
    image.ref = CTR_TRY(image_named(ins, from));
    image.image = {{"config", json::object()}};
    auto c = CTR_TRY(make_container(image, {{"cmd", json::array({"true"})}, {"entrypoint", json::array()}, {"networks", json::array({"none"})}}));
    struct Held {
        ContainerGuard guard;
        std::shared_ptr<void> rootfs;  // declared last, so unmounted before the container goes
    };
    std::shared_ptr<Held> held(new Held{ContainerGuard{cs_, c.id}, nullptr});
    held->rootfs = CTR_TRY(cs_.hold_rootfs(c));
    const fs::path root = cs_.dir_of(c.id) / "rootfs";
    const std::string inside = services::resolve_in_root(root, "/" + source);
    // The runtime opens the source from the host's root: what it reaches
    // must be inside the image's, even past resolve_in_root's 40 links.
    std::error_code ec;
    const fs::path real = fs::canonical(root.string() + inside, ec);
    if (ec) return make_error(CTR_E_NOT_FOUND, "no " + source + " in " + from);
    const std::string r = real.string(), base = fs::canonical(root, ec).string();
    if (ec || (r != base && r.rfind(base + "/", 0) != 0)) return make_error(CTR_E_PERMISSION_DENIED, source + " leads outside " + from);
    return std::make_pair(r, std::shared_ptr<void>(held));
}

// What RUN's cache key takes from its binds: the content of the context's
// paths it binds, and the digest of each image or stage it binds from.
Result<json> BuildRun::bind_sources_key(const ctr::build::Instruction& ins) {
    json key = json::array();
    for (const auto& [name, value] : ins.flags) {
        if (name != "mount") continue;
        auto o = options_of(value);
        if ((o.count("type") ? o["type"] : "bind") != "bind") continue;
        if (o.count("from")) {
            auto image = CTR_TRY(resolve(CTR_TRY(image_named(ins, o["from"]))));
            key.push_back(image ? (*image)["digest"] : json());
        } else if (context_) {
            auto found = context_->sources(source_of(o));
            if (!found) return ctr::build::instruction_error(plan_.file, ins, "--mount=" + value + ": " + found.error().message);
            key.push_back(CTR_TRY(context_->digest(*found)));
        }
    }
    return key;
}

void BuildRun::strip_mount_points(const fs::path& upper, const std::vector<std::string>& targets) {
    for (const auto& t : targets) {
        // The runtime made the target (and parents) to mount on: empty
        // directories or an empty file in the upper layer, not the build's.
        fs::path p = upper / fs::path(t).relative_path();
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
            ::unlink(p.c_str());
            p = p.parent_path();
        }
        for (; p.string().size() > upper.string().size(); p = p.parent_path()) {
            char v[2];
            if (::lgetxattr(p.c_str(), "trusted.overlay.opaque", v, sizeof v) > 0) break;
            if (::rmdir(p.c_str()) != 0) break;  // not empty: the RUN wrote there
        }
    }
}

}  // namespace ctr::apiserver::build
