// @NAME@: a network plugin on the C++ SDK, as `container plugin new` made it.
// The SDK (<ctr/sdk/plugin.hpp>) negotiates the ABI, parses each request
// (refusing unknown fields), encodes results and keeps exceptions inside.
// This skeleton has no networks yet: list answers [], every name is unknown,
// detach succeeds, and create_network checks its request, then answers
// unimplemented. That passes every GEN and NET rule of
// container-plugin-conformance; make create_network and attach real next
// (README.md). The requests and results are in <ctr/plugin.h>.
#include <ctr/sdk/plugin.hpp>

#include <arpa/inet.h>
#include <string>

namespace {

using ctr::sdk::json;

// "a.b.c.d/n" or an IPv6 prefix, with no host bits set.
bool valid_subnet(const std::string& s) {
    auto slash = s.find('/');
    if (slash == std::string::npos || slash + 1 == s.size()) return false;
    std::string addr = s.substr(0, slash), prefix = s.substr(slash + 1);
    bool v6 = addr.find(':') != std::string::npos;
    int bits = v6 ? 128 : 32, n = 0;
    if (prefix.size() > 3 || prefix.find_first_not_of("0123456789") != std::string::npos) return false;
    n = std::stoi(prefix);
    unsigned char bytes[16] = {};
    if (n > bits || inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), bytes) != 1) return false;
    for (int bit = n; bit < bits; bit++)
        if (bytes[bit / 8] >> (7 - bit % 8) & 1) return false;
    return true;
}

class Network final : public ctr::sdk::Network {
public:
    using ctr::sdk::Network::Network;

    ctr::Result<json> create_network(const json& req) override {
        CTR_TRY(ctr::sdk::get_string(req, "name"));
        auto subnet = CTR_TRY(ctr::sdk::get_opt_string(req, "subnet"));
        if (subnet && !valid_subnet(*subnet)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid subnet \"" + *subnet + "\"");
        return ctr::make_error(CTR_E_UNIMPLEMENTED, "@NAME@ cannot create networks yet");
    }

    ctr::Result<json> remove_network(const json& req) override {
        auto name = CTR_TRY(ctr::sdk::get_string(req, "name"));
        return ctr::make_error(CTR_E_NOT_FOUND, "no network \"" + name + "\"");
    }

    ctr::Result<json> attach(const json& req) override {
        auto name = CTR_TRY(ctr::sdk::get_string(req, "network"));
        CTR_TRY(ctr::sdk::get_string(req, "container_id"));
        return ctr::make_error(CTR_E_NOT_FOUND, "no network \"" + name + "\"");
    }

    // Nothing is attached, so there is nothing to undo.
    ctr::Result<json> detach(const json& req) override {
        CTR_TRY(ctr::sdk::get_string(req, "network"));
        CTR_TRY(ctr::sdk::get_string(req, "container_id"));
        return json();
    }

    ctr::Result<json> list(const json&) override { return json::array(); }
};

}  // namespace

CTR_SDK_PLUGIN(Network, "@NAME@", "0.1.0")
