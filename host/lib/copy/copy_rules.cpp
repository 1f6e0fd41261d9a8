#include "copy/copy_rules.hpp"

namespace ctr::copy {

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::missing: return "missing";
        case Kind::file: return "file";
        case Kind::dir: return "directory";
        case Kind::symlink: return "symlink";
        case Kind::other: return "special file";
    }
    return "?";
}

namespace {

std::string strip_trailing(std::string p) {
    for (;;) {
        if (p.size() > 1 && p.back() == '/') p.pop_back();
        else if (p.size() > 2 && p.compare(p.size() - 2, 2, "/.") == 0) p.resize(p.size() - 2);
        else return p;
    }
}

bool ends_with_slash(const std::string& p) {
    return (p.size() > 1 && p.back() == '/') || contents_only(p);
}

std::string join(const std::string& dir, const std::string& name) {
    if (name.empty()) return dir;
    std::string d = strip_trailing(dir);
    return d == "/" ? "/" + name : d + "/" + name;
}

}  // namespace

std::string base_name(const std::string& path) {
    std::string p = strip_trailing(path);
    if (p == "/" || p.empty()) return "";
    auto slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool contents_only(const std::string& path) {
    return path == "." || (path.size() >= 2 && path.compare(path.size() - 2, 2, "/.") == 0);
}

Result<Placement> place(Kind src_kind, const std::string& src, Kind dest_kind, const std::string& dest) {
    if (src_kind == Kind::missing) return make_error(CTR_E_NOT_FOUND, "\"" + src + "\": no such file or directory");
    if (dest.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "destination path must not be empty");
    if (src_kind != Kind::dir && ends_with_slash(src))
        return make_error(CTR_E_INVALID_ARGUMENT, "\"" + src + "\": not a directory");
    std::string name = base_name(src);
    if (src_kind == Kind::dir) {
        switch (dest_kind) {
            case Kind::missing: return Placement{strip_trailing(dest), false};
            case Kind::dir:
                if (contents_only(src) || name.empty()) return Placement{strip_trailing(dest), true};
                return Placement{join(dest, name), false};
            default:
                return make_error(CTR_E_INVALID_ARGUMENT, "cannot copy a directory onto the " + std::string(kind_name(dest_kind)) +
                                                              " \"" + dest + "\"");
        }
    }
    switch (dest_kind) {
        case Kind::missing:
            if (ends_with_slash(dest))
                return make_error(CTR_E_NOT_FOUND, "destination directory \"" + dest + "\" does not exist");
            return Placement{dest, false};
        case Kind::dir: return Placement{join(dest, name), false};
        default:
            if (ends_with_slash(dest)) return make_error(CTR_E_INVALID_ARGUMENT, "\"" + dest + "\": not a directory");
            return Placement{dest, false};
    }
}

}  // namespace ctr::copy
