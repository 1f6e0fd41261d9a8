#include "services/names.hpp"

#include <cctype>

namespace ctr::services {

Status check_name(const std::string& what, const std::string& name, size_t max) {
    bool ok = !name.empty() && name.size() <= max && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (ok) return ctr::ok();
    return make_error(CTR_E_INVALID_ARGUMENT, "invalid " + what + " name \"" + name + "\": want [A-Za-z0-9][A-Za-z0-9_.-]*, at most " +
                                                  std::to_string(max) + " characters");
}

}  // namespace ctr::services
