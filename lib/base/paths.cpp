#include <ctr/base/paths.hpp>

#include <cstdlib>

namespace ctr {

Paths::Paths(std::string root) {
    if (root.empty()) {
        const char* env = std::getenv("CONTAINER_ROOT");
        root = (env && *env) ? env : "/";
    }
    root_ = std::filesystem::absolute(root).lexically_normal();
}

}  // namespace ctr
