// A network namespace of a test's own, joined to the host by a veth pair with
// a /30 of its own: an address that is not loopback, for tests that need one
// (a registry that must not be trusted as a loopback one is). Removed, with
// its veth, on destruction.
#pragma once

#include <string>

namespace ctr::test {

class NetnsLink {
public:
    NetnsLink();
    ~NetnsLink();
    NetnsLink(const NetnsLink&) = delete;
    NetnsLink& operator=(const NetnsLink&) = delete;

    const std::string& name() const { return name_; }        // under /run/netns
    const std::string& inside() const { return inside_; }    // the namespace's address
    const std::string& outside() const { return outside_; }  // the host's end
    std::string path() const { return "/run/netns/" + name_; }

private:
    std::string name_, host_link_, inside_, outside_;
};

}  // namespace ctr::test
