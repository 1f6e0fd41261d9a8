// container-plugin-host --manifest FILE --state-dir DIR --host-version V --control-fd N [--debug]
//
// One network or image plugin, loaded in this process instead of the
// daemon's, so that its crash or hang costs one call and not the daemon
// (lib/pluginhost/remote.hpp). The daemon starts it, with one end of a socket
// pair at --control-fd, and it ends when the daemon closes that socket.
#include <ctr/base/log.hpp>
#include <ctr/pluginhost/manifest.hpp>
#include <ctr/pluginhost/remote_server.hpp>
#include <ctr/pluginhost/wire.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    std::string manifest_file, state_dir, host_version;
    int control_fd = -1;
    bool debug = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--debug") debug = true;
        else if (i + 1 >= argc) break;
        else if (a == "--manifest") manifest_file = argv[++i];
        else if (a == "--state-dir") state_dir = argv[++i];
        else if (a == "--host-version") host_version = argv[++i];
        else if (a == "--control-fd") control_fd = std::atoi(argv[++i]);
    }
    if (manifest_file.empty() || state_dir.empty() || control_fd < 3) {
        std::fprintf(stderr,
                     "usage: container-plugin-host --manifest FILE --state-dir DIR --host-version V --control-fd N\n"
                     "(started by the container daemon, not by hand)\n");
        return 2;
    }
    ctr::log::init("container-plugin-host", debug);
    // The daemon's terminal signals are not ours: it ends us by closing the socket.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGPIPE, SIG_IGN);

    using namespace ctr::pluginhost;
    auto manifest = parse_manifest(manifest_file);
    if (!manifest) {
        nlohmann::json no{{"status", manifest.error().status}, {"message", manifest.error().message}};
        (void)wire::write_frame(control_fd, wire::kHello, no.dump());
        return 1;
    }
    HostOffer offer;
    offer.host_version = host_version;
    offer.state_dir = state_dir;
    return serve_plugin(*manifest, offer, control_fd);
}
