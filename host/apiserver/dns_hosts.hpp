// `container system dns create DOMAIN`: the host resolves each running
// container of this root as NAME.DOMAIN (its address on its first network).
//
// The entries go into the host's hosts file (/etc/hosts; `[dns] hosts_file`
// in config.toml), in one block of this root's own between two marker lines.
// Every resolver on the host reads that file (glibc's, musl's, Go's), with
// no service to run and nothing to install; systemd-resolved reads it too.
// The block follows the containers: a thread reads the daemon's events
// (start, die, destroy, rename, network connect and disconnect) and writes
// the block again when what it would hold changed; at the daemon's start it
// is written from the state, so entries a crash left are corrected.
//
// The domains are kept in <lib>/dns.json. Deleting the last one removes the
// block; `system reset` deletes them all.
#pragma once

#include "apiserver/daemon.hpp"

#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace ctr::apiserver {

class DnsHosts {
public:
    explicit DnsHosts(Daemon& d);
    ~DnsHosts();  // the thread ends; the block stays (containers outlive the daemon)
    DnsHosts(const DnsHosts&) = delete;
    DnsHosts& operator=(const DnsHosts&) = delete;

    // Writes the block as the state says, then follows the events.
    void start();
    // [{"domain","hosts_file","entries"}]
    nlohmann::json list();
    Status create(const std::string& domain);
    Status remove(const std::string& domain);

private:
    Status sync();  // under mu_
    std::string block();  // this root's block as it should be; "" without domains
    Status save_domains();
    void follow();

    Daemon& d_;
    std::filesystem::path domains_file_, hosts_file_;
    std::string begin_, end_;  // the block's marker lines, naming the root
    std::mutex mu_;
    std::set<std::string> domains_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

// A domain as `system dns create` takes it: DNS labels (a-z, 0-9, '-'), one
// or more, lowercase, 253 characters at most; not "localhost".
Status check_dns_domain(const std::string& domain);

// `hosts` without the lines from `begin` to `end` (both included), then
// `block` (when not empty) at its end.
std::string replace_hosts_block(const std::string& hosts, const std::string& begin, const std::string& end, const std::string& block);

// GET /v1/system/dns, POST and DELETE /v1/system/dns/{domain}.
void add_dns_routes(Router& r, DnsHosts& dns);

}  // namespace ctr::apiserver
