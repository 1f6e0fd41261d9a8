// `network connect` and `network disconnect` of an existing container. The
// record's networks and attachments change together, under the start lock
// (no start makes or wires its namespace meanwhile) and the exits lock (an
// exit recorded meanwhile releases what the new record names, not the old).
#include "apiserver/containers.hpp"

#include <ctr/base/failpoint.hpp>
#include <spdlog/spdlog.h>

namespace ctr::apiserver {

using nlohmann::json;

namespace {

// Networks the container's namespace is not ours to wire into.
Status check_joinable(const store::ContainerRecord& c, const std::string& network, const char* verb) {
    for (const auto& n : c.settings().networks)
        if (n == "none" || n == "host" || (n.is_string() && n.get<std::string>().rfind("container:", 0) == 0))
            return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " runs with --network " + n.get<std::string>() +
                                                             ": it cannot be " + verb + " network \"" + network + "\"");
    return ok();
}

// The names the record asks for, in the attachments' order: what unwire
// detaches and `inspect` shows.
json names_of(const json& attachments) {
    json names = json::array();
    for (const auto& a : attachments) names.push_back(a.value("network", ""));
    return names;
}

}  // namespace

// Its /etc/hosts line and nameserver after its first network changed. The
// change itself stands: a file that cannot be written is logged.
void Containers::follow(const store::ContainerRecord& c) {
    if (auto st = networks_.follow_first_network(c, dir_of(c.id), c.state == store::ContainerState::running); !st)
        spdlog::warn("container {}: its hosts and resolv.conf: {}", c.name, st.error().message);
}

Result<store::ContainerRecord> Containers::connect_network(const std::string& key, const std::string& network, const json& aliases,
                                                           const std::string& ip) {
    auto found = CTR_TRY(get(key));
    auto serial = start_lock(found.id);
    std::lock_guard<std::mutex> no_start(*serial);
    CTR_TRY(get(found.id));  // an exit that happened meanwhile recorded first
    std::lock_guard<std::mutex> no_exit(exits_mu_);
    auto c = CTR_TRY(find(found.id));
    CTR_TRY_STATUS(check_joinable(c, network, "connected to"));
    json attachments = c.settings().network_attachments;
    for (const auto& a : attachments)
        if (a.value("network", "") == network)
            return make_error(CTR_E_ALREADY_EXISTS, "container " + c.name + " is already connected to network \"" + network + "\"");
    attachments.push_back(CTR_TRY(networks_.connect(c, network, aliases, ip)));
    failpoint("network-connect-after-plugin");  // reconcile detaches what the record does not name
    c.config["network_attachments"] = attachments;
    c.config["networks"] = names_of(attachments);
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        if (auto st = d_.store->update_container(c); !st) {
            (void)networks_.disconnect(c, network);
            return st.error();
        }
    }
    if (attachments.size() == 1) follow(c);  // its first network now
    spdlog::info("connected container {} to network {}", c.name, network);
    return c;
}

Result<store::ContainerRecord> Containers::disconnect_network(const std::string& key, const std::string& network) {
    auto found = CTR_TRY(get(key));
    auto serial = start_lock(found.id);
    std::lock_guard<std::mutex> no_start(*serial);
    CTR_TRY(get(found.id));
    std::lock_guard<std::mutex> no_exit(exits_mu_);
    auto c = CTR_TRY(find(found.id));
    CTR_TRY_STATUS(check_joinable(c, network, "disconnected from"));
    json attachments = c.settings().network_attachments;
    auto it = std::find_if(attachments.begin(), attachments.end(), [&](const json& a) { return a.value("network", "") == network; });
    if (it == attachments.end())
        return make_error(CTR_E_NOT_FOUND, "container " + c.name + " is not connected to network \"" + network + "\"");
    CTR_TRY_STATUS(networks_.disconnect(c, network));
    failpoint("network-disconnect-after-plugin");  // reconcile_attachments: the record forgets it
    const bool first = it == attachments.begin();
    attachments.erase(it);
    c.config["network_attachments"] = attachments;
    c.config["networks"] = names_of(attachments);
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c));
    }
    if (first) follow(c);
    spdlog::info("disconnected container {} from network {}", c.name, network);
    return c;
}

Result<std::vector<std::string>> Containers::reconcile_attachments(const std::map<std::string, std::set<std::string>>& attached) {
    std::vector<std::string> done;
    static const std::set<std::string> none;
    std::vector<store::ContainerRecord> all;  // as reconcile() left them: no refresh again
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        all = CTR_TRY(d_.store->containers());
    }
    for (auto& c : all) {
        if (c.state != store::ContainerState::running) continue;  // the others' endpoints are made at their start
        auto it = attached.find(c.id);
        const auto& has = it == attached.end() ? none : it->second;
        const json before = c.settings().network_attachments;
        json kept = json::array();
        for (const auto& a : before) {
            if (has.count(a.value("network", ""))) kept.push_back(a);
            else done.push_back("container " + c.name + " is no longer on network " + a.value("network", "") + ": it was being disconnected");
        }
        if (kept.size() == before.size()) continue;
        c.config["network_attachments"] = kept;
        c.config["networks"] = names_of(kept);
        {
            std::lock_guard<std::mutex> lock(d_.store_mu);
            CTR_TRY_STATUS(d_.store->update_container(c));
        }
        if (kept.empty() || kept[0] != before[0]) follow(c);
    }
    return done;
}

}  // namespace ctr::apiserver
