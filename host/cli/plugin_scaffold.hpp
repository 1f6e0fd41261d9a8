// `container plugin new`: the files of a new plugin (manifest, meson.build
// against the installed SDK, a skeleton that loads and passes the rules it
// claims, a README with the next steps), and writing them all or nothing.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::cli {

struct ScaffoldFile {
    std::string name;  // relative to the plugin's folder
    std::string text;
};

// kind: runtime | network | image; lang: c | cpp; name: a plugin name
// ([a-z0-9][a-z0-9._-]*). An error names the flag and the value.
Result<std::vector<ScaffoldFile>> plugin_scaffold(const std::string& kind, const std::string& lang,
                                                  const std::string& name);

// Writes `files` into `dir`, which must not exist or be empty: into a
// temporary sibling first, renamed into place, so a failure leaves nothing.
Status write_scaffold(const std::filesystem::path& dir, const std::vector<ScaffoldFile>& files);

}  // namespace ctr::cli
