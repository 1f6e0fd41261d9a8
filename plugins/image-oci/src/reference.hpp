// Image references as Docker parses them: [domain/]path[:tag][@digest].
// The first component is a domain only if it holds '.' or ':' or is
// "localhost"; otherwise the default domain applies, and a one-part name on
// docker.io gets "library/".
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>

namespace image_oci {

struct Reference {
    std::string domain;  // "docker.io", "127.0.0.1:5000"
    std::string path;    // "library/busybox"
    std::string tag;     // "latest" when neither tag nor digest was given
    std::string digest;  // "sha256:..." or empty

    // "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest".
    std::string str() const;
    // The name without tag or digest: "domain/path".
    std::string name() const { return domain + "/" + path; }
    // What to ask the registry for: the digest if there is one, else the tag.
    std::string ref() const { return digest.empty() ? tag : digest; }
};

ctr::Result<Reference> parse_reference(const std::string& text, const std::string& default_domain = "docker.io");

}  // namespace image_oci
