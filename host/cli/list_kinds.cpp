// The fields docker's --format templates see for containers, images,
// networks and volumes (docker's ps, images, network ls and volume ls
// contexts), built from the Docker API's shape of each.
#include "cli/listing.hpp"

#include <ctr/base/strings.hpp>

#include <cstdio>
#include <ctime>

namespace ctr::cli {

using nlohmann::json;

namespace {

std::string short_id(std::string id, bool no_trunc) {
    if (no_trunc) return id;
    if (id.rfind("sha256:", 0) == 0) id = id.substr(7);
    return id.substr(0, 12);
}

// "docker.io/library/busybox:1" as docker shows it: "busybox:1".
std::string familiar(std::string ref) {
    for (const char* p : {"docker.io/library/", "docker.io/"})
        if (ref.rfind(p, 0) == 0) return ref.substr(std::string(p).size());
    return ref;
}

// Go's time.Time printing, in UTC: "2026-12-04 23:56:28 +0000 UTC".
std::string go_time(int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
    return buf;
}

// Unix seconds, or an RFC 3339 string as some of the Docker shapes carry.
int64_t seconds_of(const json& v) {
    if (v.is_number()) return v.get<int64_t>();
    if (!v.is_string()) return 0;
    std::tm tm{};
    if (!strptime(v.get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
    return static_cast<int64_t>(timegm(&tm));
}

std::string ago(int64_t t) { return human_duration(std::time(nullptr) - t) + " ago"; }

std::string labels_text(const json& labels) {
    std::string out;
    if (labels.is_object())
        for (auto it = labels.begin(); it != labels.end(); ++it)
            out += (out.empty() ? "" : ",") + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
    return out;
}

}  // namespace

// docker's units.HumanSizeWithPrecision(n, 3): decimal units.
std::string docker_size(double n) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    size_t u = 0;
    while (n >= 1000 && u + 1 < std::size(units)) {
        n /= 1000;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%s", n, units[u]);
    return buf;
}

std::string size_text(int64_t rw, int64_t root_fs) {
    return docker_size(static_cast<double>(rw)) + " (virtual " + docker_size(static_cast<double>(root_fs)) + ")";
}

namespace {

std::string ports_of(const json& ports) {
    std::string out;
    for (const auto& p : ports) {
        std::string one = std::to_string(p.value("PrivatePort", 0)) + "/" + p.value("Type", "tcp");
        if (p.contains("PublicPort")) one = p.value("IP", "0.0.0.0") + ":" + std::to_string(p.value("PublicPort", 0)) + "->" + one;
        out += (out.empty() ? "" : ", ") + one;
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

std::vector<RowView> container_rows(const json& c, bool no_trunc) {
    std::vector<std::string> names, mounts, networks;
    for (const auto& n : c.value("Names", json::array())) names.push_back(n.get<std::string>().substr(n.get<std::string>().rfind('/') + 1));
    int volumes = 0;
    for (const auto& m : c.value("Mounts", json::array())) {
        const bool volume = m.value("Type", "") == "volume";
        volumes += volume;
        std::string name = volume ? m.value("Name", "") : m.value("Source", "");
        mounts.push_back(no_trunc || name.size() <= 15 ? name : name.substr(0, 15) + "…");
    }
    // A named copy: items() of a temporary would dangle in the loop.
    const json attached = c.value("NetworkSettings", json::object()).value("Networks", json::object());
    for (auto it = attached.begin(); it != attached.end(); ++it) networks.push_back(it.key());
    std::string command = c.value("Command", "");
    if (!no_trunc && command.size() > 20) command = command.substr(0, 19) + "…";
    const int64_t created = c.value("Created", int64_t{0});
    json fields = {{"ID", short_id(c.value("Id", ""), no_trunc)},
                   {"Image", familiar(c.value("Image", ""))},
                   {"Command", json(command).dump()},
                   {"CreatedAt", go_time(created)},
                   {"RunningFor", ago(created)},
                   {"Ports", ports_of(c.value("Ports", json::array()))},
                   {"State", c.value("State", "")},
                   {"Status", c.value("Status", "")},
                   {"Size", c.contains("SizeRw") ? size_text(c.value("SizeRw", int64_t{0}), c.value("SizeRootFs", int64_t{0})) : "0B"},
                   {"Names", joined(names)},
                   {"Labels", labels_text(c.value("Labels", json::object()))},
                   {"Mounts", joined(mounts)},
                   {"Networks", joined(networks)},
                   {"LocalVolumes", std::to_string(volumes)}};
    return {RowView{fields, c.value("Labels", json::object())}};
}

// One row per tag, as `docker images` lists them.
std::vector<RowView> image_rows(const json& i, bool no_trunc) {
    std::vector<RowView> out;
    const int64_t created = seconds_of(i.value("Created", json(0)));
    std::string digest = "<none>";
    for (const auto& d : i.value("RepoDigests", json::array()))
        if (auto at = d.get<std::string>().find('@'); at != std::string::npos) digest = d.get<std::string>().substr(at + 1);
    json tags = i.value("RepoTags", json::array());
    if (tags.empty()) tags.push_back("<none>:<none>");
    for (const auto& t : tags) {
        const std::string ref = familiar(t.get<std::string>());
        const size_t colon = ref.rfind(':');
        const bool tagged = colon != std::string::npos && ref.find('/', colon) == std::string::npos;
        json fields = {{"ID", short_id(i.value("Id", ""), no_trunc)},
                       {"Repository", tagged ? ref.substr(0, colon) : ref},
                       {"Tag", tagged ? ref.substr(colon + 1) : "<none>"},
                       {"Digest", digest},
                       {"CreatedSince", ago(created)},
                       {"CreatedAt", go_time(created)},
                       {"Size", docker_size(i.value("Size", 0.0))},
                       {"VirtualSize", docker_size(i.value("VirtualSize", i.value("Size", 0.0)))},
                       {"SharedSize", "N/A"},
                       {"UniqueSize", "N/A"},
                       {"Containers", "N/A"}};
        out.push_back(RowView{fields, i.value("Labels", json::object())});
    }
    return out;
}

std::vector<RowView> network_rows(const json& n, bool no_trunc) {
    json fields = {{"ID", short_id(n.value("Id", ""), no_trunc)},
                   {"Name", n.value("Name", "")},
                   {"Driver", n.value("Driver", "")},
                   {"Scope", n.value("Scope", "local")},
                   {"IPv6", n.value("EnableIPv6", false) ? "true" : "false"},
                   {"Internal", n.value("Internal", false) ? "true" : "false"},
                   {"Labels", labels_text(n.value("Labels", json::object()))},
                   {"CreatedAt", go_time(seconds_of(n.value("Created", json(0))))}};
    return {RowView{fields, n.value("Labels", json::object())}};
}

std::vector<RowView> volume_rows(const json& v, bool) {
    json fields = {{"Name", v.value("Name", "")},
                   {"Driver", v.value("Driver", "")},
                   {"Scope", v.value("Scope", "local")},
                   {"Mountpoint", v.value("Mountpoint", "")},
                   {"Labels", labels_text(v.value("Labels", json::object()))},
                   {"Links", "N/A"},
                   {"Size", "N/A"},
                   {"CreatedAt", go_time(seconds_of(v.value("CreatedAt", json(0))))}};
    return {RowView{fields, v.value("Labels", json::object())}};
}

}  // namespace

const ListKind& container_kind() {
    static const ListKind k{{{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"},
                             {"RunningFor", "CREATED"}, {"Ports", "PORTS"}, {"State", "STATE"}, {"Status", "STATUS"},
                             {"Size", "SIZE"}, {"Names", "NAMES"}, {"Labels", "LABELS"}, {"Mounts", "MOUNTS"},
                             {"Networks", "NETWORKS"}, {"LocalVolumes", "LOCAL VOLUMES"}},
                            container_rows};
    return k;
}

const ListKind& image_kind() {
    static const ListKind k{{{"ID", "IMAGE ID"}, {"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"Digest", "DIGEST"},
                             {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"Size", "SIZE"},
                             {"VirtualSize", "VIRTUAL SIZE"}, {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"},
                             {"Containers", "CONTAINERS"}},
                            image_rows};
    return k;
}

const ListKind& network_kind() {
    static const ListKind k{{{"ID", "NETWORK ID"}, {"Name", "NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"}, {"IPv6", "IPV6"},
                             {"Internal", "INTERNAL"}, {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"}},
                            network_rows};
    return k;
}

const ListKind& volume_kind() {
    static const ListKind k{{{"Name", "VOLUME NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"}, {"Mountpoint", "MOUNTPOINT"},
                             {"Labels", "LABELS"}, {"Links", "LINKS"}, {"Size", "SIZE"}, {"CreatedAt", "CREATED AT"}},
                            volume_rows};
    return k;
}

}  // namespace ctr::cli
