#include "reference.hpp"

#include "digest.hpp"

#include <regex>

namespace image_oci {

std::string Reference::str() const {
    std::string s = name();
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

ctr::Result<Reference> parse_reference(const std::string& text, const std::string& default_domain) {
    auto bad = [&](const std::string& why) {
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid reference \"" + text + "\": " + why);
    };
    if (text.empty()) return bad("empty");
    if (text.size() > 512) return bad("too long");
    Reference r;
    std::string rest = text;
    if (auto at = rest.find('@'); at != std::string::npos) {
        r.digest = rest.substr(at + 1);
        rest = rest.substr(0, at);
        if (auto st = check_digest(r.digest); !st) return bad(st.error().message);
    }
    // A tag is after the last ':' that comes after the last '/'.
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        r.tag = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
        static const std::regex tag_re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
        if (!std::regex_match(r.tag, tag_re)) return bad("invalid tag \"" + r.tag + "\"");
    }
    if (rest.empty()) return bad("no name");
    auto first = rest.find('/');
    std::string head = rest.substr(0, first);
    if (first != std::string::npos &&
        (head.find('.') != std::string::npos || head.find(':') != std::string::npos || head == "localhost")) {
        r.domain = head;
        r.path = rest.substr(first + 1);
        static const std::regex domain_re("[A-Za-z0-9.-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:]+\\](:[0-9]{1,5})?");
        if (!std::regex_match(r.domain, domain_re)) return bad("invalid registry \"" + r.domain + "\"");
    } else {
        r.domain = default_domain;
        r.path = rest;
        if (r.domain == "docker.io" && r.path.find('/') == std::string::npos) r.path = "library/" + r.path;
    }
    for (char c : r.path)
        if (c >= 'A' && c <= 'Z') return bad("repository name must be lowercase");
    static const std::regex path_re("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*");
    if (!std::regex_match(r.path, path_re)) return bad("invalid repository name \"" + r.path + "\"");
    if (r.name().size() > 255) return bad("name longer than 255 characters");
    if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
    return r;
}

}  // namespace image_oci
