#include "apiserver/dns_hosts.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <vector>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The events after which the block may hold other lines.
bool matters(const services::Event& e) {
    static const std::set<std::string> container_actions = {"start", "die", "destroy", "rename"};
    if (e.type == "container") return container_actions.count(e.action) > 0;
    return e.type == "network" && (e.action == "connect" || e.action == "disconnect");
}

// Atomically when the file can be replaced; in place when it is a mount
// point (the hosts file of a machine that itself runs in a container), where
// a rename over it fails.
Status write_hosts(const fs::path& file, const std::string& content) {
    struct stat st {};
    const int mode = ::stat(file.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : 0644;
    auto atomic = sys::write_file_atomic(file, content, mode);
    if (atomic) return ok();
    sys::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd.valid()) return sys::errno_error("open", file, errno);
    if (!sys::write_all(fd.get(), content)) return sys::errno_error("write", file, errno);
    return ok();
}

}  // namespace

Status check_dns_domain(const std::string& domain) {
    static const std::regex label("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    if (domain.empty() || domain.size() > 253 || !std::regex_match(domain, label))
        return make_error(CTR_E_INVALID_ARGUMENT, "dns domain \"" + domain + "\": want DNS labels of a-z, 0-9 and -, such as test or containers.internal");
    if (domain == "localhost" || (domain.size() > 10 && domain.compare(domain.size() - 10, 10, ".localhost") == 0))
        return make_error(CTR_E_INVALID_ARGUMENT, "dns domain \"" + domain + "\": localhost names the host itself");
    return ok();
}

std::string replace_hosts_block(const std::string& hosts, const std::string& begin, const std::string& end, const std::string& block) {
    std::istringstream in(hosts);
    std::string out, line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside && line == begin) inside = true;
        if (!inside) out += line + "\n";
        if (inside && line == end) inside = false;
    }
    return out + block;
}

DnsHosts::DnsHosts(Daemon& d)
    : d_(d),
      domains_file_(d.paths.lib_dir() / "dns.json"),
      hosts_file_(d.config.dns_hosts_file),
      begin_("# BEGIN container system dns, root " + d.paths.root().string() + ": written by the container daemon, edits are lost"),
      end_("# END container system dns, root " + d.paths.root().string()) {
    if (auto text = sys::read_file(domains_file_)) {
        json j = json::parse(*text, nullptr, false);
        if (j.is_object() && j["domains"].is_array())
            for (const auto& x : j["domains"])
                if (x.is_string() && check_dns_domain(x.get<std::string>())) domains_.insert(x.get<std::string>());
    }
}

DnsHosts::~DnsHosts() {
    done_ = true;
    d_.events.wake_all();
    if (thread_.joinable()) thread_.join();
}

void DnsHosts::start() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!domains_.empty())
            if (auto st = sync(); !st) spdlog::warn("system dns: {}", st.error().message);
    }
    thread_ = std::thread([this] { follow(); });
}

std::string DnsHosts::block() {
    if (domains_.empty()) return "";
    std::vector<std::string> lines;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        auto all = d_.store->containers();
        if (all)
            for (const auto& c : *all) {
                if (c.state != store::ContainerState::running) continue;
                std::string ip;
                for (const auto& a : c.settings().network_attachments)
                    if (ip.empty()) ip = a.value("ip", "");
                if (ip.empty()) continue;  // no network, or the host's
                for (const auto& domain : domains_) lines.push_back(ip + "\t" + c.name + "." + domain);
            }
    }
    std::sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
        return a.substr(a.find('\t')) < b.substr(b.find('\t'));
    });
    std::string out = begin_ + "\n";
    for (const auto& l : lines) out += l + "\n";
    return out + end_ + "\n";
}

Status DnsHosts::sync() {
    std::string now;
    if (auto text = sys::read_file(hosts_file_)) now = *text;
    else if (domains_.empty()) return ok();  // no file, nothing to take out
    if (!now.empty() && now.back() != '\n') now += "\n";
    std::string wanted = replace_hosts_block(now, begin_, end_, block());
    if (wanted == now) return ok();
    if (auto st = write_hosts(hosts_file_, wanted); !st) return st.error().wrap("write " + hosts_file_.string());
    return ok();
}

Status DnsHosts::save_domains() {
    return sys::write_file_atomic(domains_file_, json{{"domains", domains_}}.dump() + "\n", 0644);
}

void DnsHosts::follow() {
    uint64_t seq = 0;
    while (!done_ && !d_.stopping) {
        bool changed = false;
        for (const auto& e : d_.events.after(seq, 1000)) {
            seq = e.seq;
            changed = changed || matters(e);
        }
        if (!changed || done_) continue;
        std::lock_guard<std::mutex> lock(mu_);
        if (domains_.empty()) continue;
        if (auto st = sync(); !st) spdlog::warn("system dns: {}", st.error().message);
    }
}

json DnsHosts::list() {
    std::lock_guard<std::mutex> lock(mu_);
    json out = json::array();
    for (const auto& domain : domains_) out.push_back({{"domain", domain}, {"hosts_file", hosts_file_.string()}});
    return out;
}

Status DnsHosts::create(const std::string& domain) {
    CTR_TRY_STATUS(check_dns_domain(domain));
    std::lock_guard<std::mutex> lock(mu_);
    if (domains_.count(domain)) return make_error(CTR_E_ALREADY_EXISTS, "dns domain " + domain + " exists");
    domains_.insert(domain);
    Status st = sync();
    if (st) st = save_domains();
    if (!st) {  // nothing half made: the hosts file as it was, the domain not kept
        domains_.erase(domain);
        (void)sync();
        return st;
    }
    spdlog::info("system dns: containers resolve as NAME.{} through {}", domain, hosts_file_.string());
    return ok();
}

Status DnsHosts::remove(const std::string& domain) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!domains_.count(domain)) return make_error(CTR_E_NOT_FOUND, "no dns domain " + domain);
    domains_.erase(domain);
    Status st = sync();
    if (st) st = save_domains();
    if (!st) {
        domains_.insert(domain);
        return st;
    }
    spdlog::info("system dns: domain {} deleted", domain);
    return ok();
}

void add_dns_routes(Router& r, DnsHosts& dns) {
    r.add("GET", "/v1/system/dns", [&dns](const Request&) -> Result<Reply> { return json_reply(dns.list()); });
    r.add("POST", "/v1/system/dns/{domain}", [&dns](const Request& req) -> Result<Reply> {
        CTR_TRY_STATUS(dns.create(req.param("domain")));
        return json_reply(json{{"domain", req.param("domain")}}, 201);
    });
    r.add("DELETE", "/v1/system/dns/{domain}", [&dns](const Request& req) -> Result<Reply> {
        CTR_TRY_STATUS(dns.remove(req.param("domain")));
        return json_reply(json::object());
    });
}

}  // namespace ctr::apiserver
