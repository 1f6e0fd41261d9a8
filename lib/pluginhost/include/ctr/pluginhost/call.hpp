// Calling a plugin operation from C++: JSON in, Result<JSON> out. The
// host-side half of the exception firewall lives here too: our sink and
// progress callbacks never let an exception escape into plugin code.
#pragma once

#include <ctr/plugin.h>
#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace ctr::pluginhost {

// The raw call: the request text as given, the result text as written.
Result<std::string> invoke_raw(ctr_op op, ctr_plugin* instance, std::string_view request, const char* op_name);

// The usual call: a JSON request, a JSON result (null when the plugin wrote none).
Result<nlohmann::json> invoke(ctr_op op, ctr_plugin* instance, const nlohmann::json& request, const char* op_name);

using ProgressFn = std::function<void(const nlohmann::json&)>;
using CancelledFn = std::function<bool()>;

// An operation with progress (image pull and push); a null op is unimplemented.
Result<nlohmann::json> invoke_with_progress(ctr_progress_op op, const char* op_name, ctr_plugin* instance,
                                            const nlohmann::json& request, const ProgressFn& on_progress,
                                            const CancelledFn& cancelled);
Result<nlohmann::json> invoke_pull(const ctr_image_v1& image, ctr_plugin* instance, const nlohmann::json& request,
                                   const ProgressFn& on_progress, const CancelledFn& cancelled);

}  // namespace ctr::pluginhost
