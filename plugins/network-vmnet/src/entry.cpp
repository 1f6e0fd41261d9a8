// network-vmnet: ABI wiring. Networks, endpoints, NAT and DNS arrive with the
// network issue; until then the plugin loads and negotiates, and every
// operation answers CTR_E_UNIMPLEMENTED with a message saying so.
#include <ctr/sdk/plugin.hpp>

namespace {

class NetworkVmnet : public ctr::sdk::Network {
public:
    using Network::Network;
};

}  // namespace

CTR_SDK_PLUGIN(NetworkVmnet, "network-vmnet", "0.1.0")
