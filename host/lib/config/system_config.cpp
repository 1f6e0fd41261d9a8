#include "config/system_config.hpp"

#include <ctr/base/units.hpp>
#include <ctr/pluginhost/manifest.hpp>

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <functional>
#include <map>

namespace ctr::config {

namespace {

std::string where(const std::filesystem::path& file, const toml::node& n) {
    return file.string() + ":" + std::to_string(n.source().begin.line);
}

Error bad(const std::filesystem::path& file, const toml::node& n, const std::string& key, const std::string& what) {
    return make_error(CTR_E_INVALID_ARGUMENT, where(file, n) + ": key \"" + key + "\": " + what);
}

}  // namespace

Status check_cidr(const std::string& cidr, const std::string& what) {
    auto bad_cidr = [&] { return make_error(CTR_E_INVALID_ARGUMENT, what + ": invalid subnet \"" + cidr + "\""); };
    auto slash = cidr.find('/');
    if (slash == std::string::npos) return bad_cidr();
    in_addr addr{};
    if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &addr) != 1) return bad_cidr();
    std::string len = cidr.substr(slash + 1);
    if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos) return bad_cidr();
    int prefix = std::stoi(len);
    if (prefix > 32) return bad_cidr();
    uint32_t a = ntohl(addr.s_addr);
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    if (a & ~mask)
        return make_error(CTR_E_INVALID_ARGUMENT, what + ": subnet \"" + cidr + "\" has host bits set");
    return ok();
}

nlohmann::json SystemConfig::properties() const {
    nlohmann::json p = {{"container.cpus", container_cpus},
            {"container.memory", container_memory},
            {"container.runtime", container_runtime},
            {"container.cgroup_manager", container_cgroup_manager},
            {"image.plugin", image_plugin},
            {"network.plugin", network_plugin},
            {"image.call_timeout_ms", image_call_timeout_ms},
            {"network.call_timeout_ms", network_call_timeout_ms},
            {"network.subnet_pool", network_subnet_pool},
            {"network.prefix_length", network_prefix_length},
            {"network.default", network_default},
            {"registry.domain", registry_domain},
            {"registry.insecure", registry_insecure},
            {"registry.max_concurrent_downloads", registry_max_concurrent_downloads},
            {"docker_api.enabled", docker_api_enabled},
            {"api.group", api_group},
            {"dns.hosts_file", dns_hosts_file},
            {"log.level", log_level}};
    for (const auto& [name, settings] : plugin_settings.items())
        for (const auto& [k, v] : settings.items()) p["plugins." + name + "." + k] = v;
    return p;
}

namespace {

using Reader = std::function<Status(const toml::node&, const std::string&)>;

Reader string_into(const std::filesystem::path& file, std::string& out) {
    return [&out, &file](const toml::node& n, const std::string& key) -> Status {
        if (!n.is_string()) return bad(file, n, key, "must be a string");
        out = n.as_string()->get();
        return ok();
    };
}

// A plugin's name, or "" for the default of its kind.
Reader plugin_into(const std::filesystem::path& file, std::string& out) {
    return [&out, &file](const toml::node& n, const std::string& key) -> Status {
        CTR_TRY_STATUS(string_into(file, out)(n, key));
        if (!out.empty() && !pluginhost::valid_plugin_name(out))
            return bad(file, n, key, "\"" + out + "\" is not a plugin name");
        return ok();
    };
}

Reader bool_into(const std::filesystem::path& file, bool& out) {
    return [&out, &file](const toml::node& n, const std::string& key) -> Status {
        if (!n.is_boolean()) return bad(file, n, key, "must be true or false");
        out = n.as_boolean()->get();
        return ok();
    };
}

Reader int_into(const std::filesystem::path& file, int& out, int lo, int hi) {
    return [&out, lo, hi, &file](const toml::node& n, const std::string& key) -> Status {
        if (!n.is_integer()) return bad(file, n, key, "must be an integer");
        int64_t v = n.as_integer()->get();
        if (v < lo || v > hi) return bad(file, n, key, "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
        out = static_cast<int>(v);
        return ok();
    };
}

// Each known "section.key" and how to read it into `c`.
std::map<std::string, Reader> schema(const std::filesystem::path& file, SystemConfig& c) {
    return {
        {"container.cpus",
         [&](const toml::node& n, const std::string& key) -> Status {
             if (!n.is_number()) return bad(file, n, key, "must be a number");
             double v = n.is_integer() ? static_cast<double>(n.as_integer()->get()) : n.as_floating_point()->get();
             if (v < 0) return bad(file, n, key, "must not be negative");
             c.container_cpus = v;
             return ok();
         }},
        {"container.memory",
         [&](const toml::node& n, const std::string& key) -> Status {
             if (!n.is_string()) return bad(file, n, key, "must be a string such as \"1g\"");
             auto bytes = parse_size(n.as_string()->get(), "container.memory");
             if (!bytes) return bad(file, n, key, bytes.error().message);
             c.container_memory = *bytes;
             return ok();
         }},
        {"container.runtime", plugin_into(file, c.container_runtime)},
        {"container.cgroup_manager",
         [&](const toml::node& n, const std::string& key) -> Status {
             CTR_TRY_STATUS(string_into(file, c.container_cgroup_manager)(n, key));
             for (const char* m : {"auto", "systemd", "cgroupfs"})
                 if (c.container_cgroup_manager == m) return ok();
             return bad(file, n, key, "must be auto, systemd or cgroupfs, not \"" + c.container_cgroup_manager + "\"");
         }},
        {"image.plugin", plugin_into(file, c.image_plugin)},
        {"network.plugin", plugin_into(file, c.network_plugin)},
        {"image.call_timeout_ms", int_into(file, c.image_call_timeout_ms, 0, 86400000)},
        {"network.call_timeout_ms", int_into(file, c.network_call_timeout_ms, 0, 86400000)},
        {"network.subnet_pool",
         [&](const toml::node& n, const std::string& key) -> Status {
             CTR_TRY_STATUS(string_into(file, c.network_subnet_pool)(n, key));
             if (auto st = check_cidr(c.network_subnet_pool, key); !st) return bad(file, n, key, st.error().message);
             return ok();
         }},
        {"network.prefix_length", int_into(file, c.network_prefix_length, 8, 30)},
        {"network.default", string_into(file, c.network_default)},
        {"registry.domain", string_into(file, c.registry_domain)},
        {"registry.insecure",
         [&](const toml::node& n, const std::string& key) -> Status {
             if (!n.is_array()) return bad(file, n, key, "must be an array of strings");
             c.registry_insecure.clear();
             for (const auto& item : *n.as_array()) {
                 if (!item.is_string()) return bad(file, item, key, "must be an array of strings");
                 c.registry_insecure.push_back(item.as_string()->get());
             }
             return ok();
         }},
        {"registry.max_concurrent_downloads", int_into(file, c.registry_max_concurrent_downloads, 1, 32)},
        {"docker_api.enabled", bool_into(file, c.docker_api_enabled)},
        {"api.group", string_into(file, c.api_group)},
        {"dns.hosts_file",
         [&](const toml::node& n, const std::string& key) -> Status {
             CTR_TRY_STATUS(string_into(file, c.dns_hosts_file)(n, key));
             if (c.dns_hosts_file.empty() || c.dns_hosts_file.front() != '/') return bad(file, n, key, "must be an absolute path");
             return ok();
         }},
        {"log.level",
         [&](const toml::node& n, const std::string& key) -> Status {
             CTR_TRY_STATUS(string_into(file, c.log_level)(n, key));
             for (const char* l : {"trace", "debug", "info", "warn", "error"})
                 if (c.log_level == l) return ok();
             return bad(file, n, key, "must be trace, debug, info, warn or error, not \"" + c.log_level + "\"");
         }},
    };
}

// [plugins.NAME] tables: each plugin checks its own settings when it loads.
Status read_plugin_settings(const std::filesystem::path& file, const toml::table& t, SystemConfig& c) {
    for (const auto& [name, settings] : t) {
        std::string key = "plugins." + std::string(name.str());
        if (!pluginhost::valid_plugin_name(std::string(name.str()))) return bad(file, settings, key, "not a plugin name");
        if (!settings.is_table()) return bad(file, settings, key, "must be a table of settings");
        c.plugin_settings[std::string(name.str())] = pluginhost::toml_to_json(settings);
    }
    return ok();
}

}  // namespace

Result<SystemConfig> load(const std::filesystem::path& file) {
    SystemConfig c;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return c;
    toml::table root;
    try {  // toml++ reports syntax errors by exception; turned into a value here
        root = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        return make_error(CTR_E_INVALID_ARGUMENT, file.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                                                      std::to_string(e.source().begin.column) + ": " +
                                                      std::string(e.description()));
    }
    auto readers = schema(file, c);
    for (const auto& [section, node] : root) {
        std::string s(section.str());
        if (s == "version") {  // the file's format: one this build knows, or a clear stop
            const auto* v = node.as_integer();
            if (!v) return bad(file, node, s, "must be a whole number");
            if (v->get() > kConfigVersion)
                return bad(file, node, s, "is " + std::to_string(v->get()) + ", newer than this container speaks (" +
                                              std::to_string(kConfigVersion) + "): upgrade container, or write the file for version " +
                                              std::to_string(kConfigVersion));
            if (v->get() < 1) return bad(file, node, s, "must be 1 or more");
            continue;
        }
        const toml::table* t = node.as_table();
        if (!t) return bad(file, node, s, "unknown key (the file holds only tables: container, image, network, registry, docker_api, api, dns, log, plugins)");
        if (s == "plugins") {
            CTR_TRY_STATUS(read_plugin_settings(file, *t, c));
            continue;
        }
        if (s == "kernel")  // before phase two's plugin settings
            return bad(file, node, s, "moved: a plugin's own settings live in its [plugins.NAME] table (docs/plugins.md, \"Settings\")");
        for (const auto& [key, value] : *t) {
            std::string full = s + "." + std::string(key.str());
            auto it = readers.find(full);
            if (it == readers.end()) return bad(file, value, full, "unknown key");
            CTR_TRY_STATUS(it->second(value, full));
        }
    }
    if (c.network_prefix_length < std::stoi(c.network_subnet_pool.substr(c.network_subnet_pool.find('/') + 1)))
        return make_error(CTR_E_INVALID_ARGUMENT, file.string() + ": key \"network.prefix_length\": /" +
                                                      std::to_string(c.network_prefix_length) +
                                                      " networks do not fit in the pool " + c.network_subnet_pool);
    return c;
}

}  // namespace ctr::config
