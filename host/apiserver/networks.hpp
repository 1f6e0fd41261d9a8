// Networks as the daemon sees them: the network plugin (network-vmnet by
// default) owns networks and addresses; the daemon makes each container's
// network namespace, asks the plugin to wire it into the networks `run`
// named, and writes the container's /etc/hosts and /etc/resolv.conf.
//
// A container's namespace is pinned at <run>/netns/<id> from create to rm,
// so its address, links and names live exactly as long as the container.
#pragma once

#include "apiserver/daemon.hpp"
#include "apiserver/port_proxy.hpp"
#include "services/spec.hpp"

#include <map>
#include <set>

namespace ctr::apiserver {

class Networks {
public:
    explicit Networks(Daemon& d);
    ~Networks();

    Result<nlohmann::json> list();
    Result<nlohmann::json> inspect(const std::string& name);
    // {"name","subnet"?,"gateway"?,"internal"?,"labels"?,"options"?}
    Result<nlohmann::json> create(const nlohmann::json& body);
    Status remove(const std::string& name);
    // Removes networks no container uses, but the default, and only those
    // `may_remove` allows (given the network's JSON) when it is set.
    Result<std::vector<std::string>> prune(const std::function<bool(const nlohmann::json&)>& may_remove = nullptr);

    struct Wiring {
        services::SpecNetwork spec;
        std::vector<services::ResolvedMount> mounts;  // /etc/hosts, /etc/resolv.conf
        nlohmann::json attachments = nlohmann::json::array();  // [{network, ip, prefix, gateway, mac, ifname}]
    };
    // Makes the container's namespace and attaches it, in `dir` (the
    // container's directory). On failure nothing is left: unwire() is safe
    // to call on anything half made.
    Result<Wiring> wire(const store::ContainerRecord& c, const services::RunRequest& req, const std::filesystem::path& dir);
    // Before a start: when the container's namespace is gone (it stopped, or
    // the host rebooted: <run> is a tmpfs), makes it again and attaches it
    // anew with the addresses it had; an address another container took
    // meanwhile is exchanged for a new one (not a --ip), its /etc/hosts line
    // and record updated (`dir`: the container's directory, as for wire).
    Status rewire_if_lost(store::ContainerRecord& c, const std::filesystem::path& dir);
    // `network connect`: one more endpoint for the container on `network`
    // (ethN, N the first free), with its name, short id and `aliases` as
    // names and `ip` when given. Its namespace, when it has one (created or
    // running), is attached now; a stopped container's at its next start.
    // Returns the attachment as the record keeps it.
    Result<nlohmann::json> connect(const store::ContainerRecord& c, const std::string& network, const nlohmann::json& aliases,
                                   const std::string& ip);
    // `network disconnect`: the endpoint detached, when there is one.
    Status disconnect(const store::ContainerRecord& c, const std::string& network);
    // After its networks changed (connect, disconnect, an address taken
    // meanwhile): the container's /etc/hosts line and nameserver follow its
    // first network. `in_place`: it runs, with the files bind-mounted.
    Status follow_first_network(const store::ContainerRecord& c, const std::filesystem::path& dir, bool in_place);
    // The containers (by name) whose record names network `name`, running or not.
    std::vector<std::string> users_of(const std::string& name);
    // Detaches the container from every network it asked for and removes its
    // namespace. Idempotent.
    Status unwire(const store::ContainerRecord& c);

    // After a crash: detaches endpoints of containers that no longer exist,
    // or on a network their record does not name (a `network connect` cut
    // short), and removes the namespaces of those gone. `named`: each
    // container's id and the networks of its record's attachments.
    Result<std::vector<std::string>> reconcile(const std::map<std::string, std::set<std::string>>& named);
    // The default network is made on first use (and only it: another name
    // not found is an error); Docker's clients may ask for it ("bridge")
    // before any container does.
    Status ensure(const std::string& name);
    // For `system stop --all`: the default network goes when no one uses it
    // (it is made again on first use).
    void remove_default_if_unused();

    std::filesystem::path netns_of(const std::string& id) const { return d_.paths.run_dir() / "netns" / id; }

    // Rootless (port_proxy.hpp): the daemon listens on a container's
    // published host ports itself from wire to unwire; after a daemon
    // start, again for the containers whose namespace stands.
    void republish(const std::vector<store::ContainerRecord>& all);

private:
    Result<pluginhost::LoadedPlugin*> plugin();
    // The container's hosts, resolv.conf and hostname files in `dir`.
    Status write_name_files(const store::ContainerRecord& c, const services::RunRequest& req, const std::string& my_ip,
                            const std::string& gateway, const std::vector<std::string>& nameservers,
                            const std::filesystem::path& dir, bool in_place);
    Status publish(const std::string& id, const nlohmann::json& attachments);
    Daemon& d_;
    std::mutex mu_;  // ensure(): one default network, even when two runs race
    std::unique_ptr<PortProxy> proxy_;  // rootless only
};

void add_network_routes(Router& router, Daemon& daemon, Networks& networks);

}  // namespace ctr::apiserver
