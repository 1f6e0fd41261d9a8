// A build context that comes as a tar (docker build's body; `container
// build -` with a tar on stdin): unpacked as a hostile archive into a
// scratch folder of the builder's, which goes when its last holder does.
// The Dockerfile is a path inside it.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace ctr::apiserver::build {

struct UnpackedContext {
    std::filesystem::path dir;
    std::string dockerfile;       // its text
    std::string dockerfile_name;  // its base name, for errors
    std::string ignore;           // <Dockerfile>.dockerignore, else .dockerignore, else ""
    ~UnpackedContext();
};

// `tar` (plain or compressed) unpacked under `lib_dir`/build; `dockerfile`
// read from it (default "Dockerfile", then "Containerfile"), refused when it
// is not a path inside.
Result<std::shared_ptr<UnpackedContext>> unpack_context(const std::filesystem::path& lib_dir, const std::filesystem::path& tar,
                                                        const std::string& dockerfile);

}  // namespace ctr::apiserver::build
