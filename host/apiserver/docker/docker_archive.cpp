// /containers/{id}/archive: docker cp. HEAD stats a path (the answer in the
// X-Docker-Container-Path-Stat header), GET sends it as a tar whose top entry
// is its base name, PUT unpacks a tar into a directory. The file work is the
// container-cp helper's, as for our own cp (copy_routes.hpp).
#include "apiserver/copy_routes.hpp"
#include "apiserver/docker/docker_api.hpp"

#include <ctr/base/strings.hpp>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

Result<std::string> path_of(const Request& req) {
    auto it = req.query.find("path");
    if (it == req.query.end() || it->second.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "path: a path in the container is required");
    if (it->second.find('\0') != std::string::npos) return make_error(CTR_E_INVALID_ARGUMENT, "path: invalid");
    return it->second.front() == '/' ? it->second : "/" + it->second;
}

// Go's os.FileMode of our stat: permissions, the setuid/setgid/sticky bits
// and the kind at the bit positions Go gives them.
uint32_t go_file_mode(const json& st) {
    const uint32_t mode = static_cast<uint32_t>(st.value("mode", 0));
    uint32_t out = mode & 0777;
    if (mode & 04000) out |= 1u << 23;
    if (mode & 02000) out |= 1u << 22;
    if (mode & 01000) out |= 1u << 20;
    const std::string kind = st.value("kind", "");
    if (kind == "directory") out |= 1u << 31;
    else if (kind == "symlink") out |= 1u << 27;
    return out;
}

// The name docker gives the tar's top entry: the path's base name ("." for
// "/x/." which copies a directory's contents; "/" itself is ".").
std::string base_name(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path == "/") return ".";
    return path.substr(path.rfind('/') + 1);
}

std::string stat_header(const json& st, const std::string& path) {
    json j = {{"name", base_name(path)},
              {"size", st.value("size", 0)},
              {"mode", go_file_mode(st)},
              {"mtime", st.contains("mtime") ? ctr::rfc3339(st["mtime"].get<int64_t>()) : "0001-01-01T00:00:00Z"},
              {"linkTarget", st.value("link_target", "")}};
    return ctr::base64_encode(j.dump());
}

Result<store::ContainerRecord> container_of(Containers& cs, const Request& req) {
    auto c = cs.get(req.param("id"));
    if (!c) return make_error(CTR_E_NOT_FOUND, "No such container: " + req.param("id"));
    return *c;
}

Result<json> stat_of(Containers& cs, const store::ContainerRecord& c, const std::string& path) {
    auto st = path_stat(cs, c, path, false);
    if (!st && st.error().status == CTR_E_NOT_FOUND)
        return make_error(CTR_E_NOT_FOUND, "Could not find the file " + path + " in container " + c.name);
    return st;
}

}  // namespace

void add_archive_routes(Router& r, Containers& cs) {
    r.add("GET", "/containers/{id}/export", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(container_of(cs, req));
        Reply reply;
        reply.content_type = "application/x-tar";
        reply.stream = CTR_TRY(export_tar(cs, c));
        return reply;
    });
    r.add("HEAD", "/containers/{id}/archive", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(container_of(cs, req));
        const std::string path = CTR_TRY(path_of(req));
        json st = CTR_TRY(stat_of(cs, c, path));
        Reply reply;
        reply.headers.emplace_back("X-Docker-Container-Path-Stat", stat_header(st, path));
        return reply;
    });
    r.add("GET", "/containers/{id}/archive", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(container_of(cs, req));
        const std::string path = CTR_TRY(path_of(req));
        json st = CTR_TRY(stat_of(cs, c, path));
        Reply reply;
        reply.headers.emplace_back("X-Docker-Container-Path-Stat", stat_header(st, path));
        reply.content_type = "application/x-tar";
        reply.stream = CTR_TRY(path_tar(cs, c, path, base_name(path)));
        return reply;
    });
    r.add_streaming("PUT", "/containers/{id}/archive", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(container_of(cs, req));
        const std::string path = CTR_TRY(path_of(req));
        json st = CTR_TRY(stat_of(cs, c, path));
        if (st.value("kind", "") != "directory") return make_error(CTR_E_INVALID_ARGUMENT, "extraction point is not a directory: " + path);
        CTR_TRY_STATUS(extract_into(cs, c, path, req.read_body, req.flag("copyUIDGID")));
        return Reply{};
    });
}

}  // namespace ctr::apiserver::docker
