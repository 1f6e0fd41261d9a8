// The plugin host process's side of remote.hpp: loads one plugin and serves
// calls to it, one thread per connection the daemon opens.
#pragma once

#include <ctr/pluginhost/loader.hpp>

namespace ctr::pluginhost {

// Loads the plugin, says hello on control_fd (what was loaded, or why not),
// then serves until the daemon closes control_fd. Returns the process's
// exit code: 0 after a clean end, 1 when the plugin did not load.
int serve_plugin(const Manifest& manifest, const HostOffer& offer, int control_fd);

}  // namespace ctr::pluginhost
