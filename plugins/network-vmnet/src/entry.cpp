// network-vmnet: the ABI face of Networks (networks.hpp), which does the work.
#include "networks.hpp"

#include <ctr/sdk/plugin.hpp>

namespace {

using ctr::sdk::json;

class NetworkVmnet : public ctr::sdk::Network {
public:
    using Network::Network;

    ctr::Status init() override {
        if (host().state_dir().empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "the host gave no state directory");
        const auto& h = host();
        networks_ = std::make_unique<ctr::net::Networks>(h.state_dir(), [h](const std::string& m) { h.warn(m); });
        return ctr::ok();
    }
    ctr::Result<json> create_network(const json& req) override { return networks_->create(req); }
    ctr::Result<json> remove_network(const json& req) override { return networks_->remove(req); }
    ctr::Result<json> attach(const json& req) override { return networks_->attach(req); }
    ctr::Result<json> detach(const json& req) override { return networks_->detach(req); }
    ctr::Result<json> list(const json&) override { return networks_->list(); }

private:
    std::unique_ptr<ctr::net::Networks> networks_;
};

}  // namespace

// The name a build gives it (tests build this code a second time as another
// plugin, to show that the host picks network plugins by configuration).
#ifndef NETWORK_VMNET_PLUGIN_NAME
#define NETWORK_VMNET_PLUGIN_NAME "network-vmnet"
#endif
CTR_SDK_PLUGIN(NetworkVmnet, NETWORK_VMNET_PLUGIN_NAME, "0.1.0")
