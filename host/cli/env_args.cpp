#include "cli/env_args.hpp"

#include <ctr/sys/files.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace ctr::cli {

std::vector<std::string> resolve_env(const std::vector<std::string>& given) {
    std::vector<std::string> out;
    for (const auto& e : given) {
        if (e.find('=') != std::string::npos) {
            out.push_back(e);
            continue;
        }
        if (const char* v = std::getenv(e.c_str())) out.push_back(e + "=" + v);
    }
    return out;
}

Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& file) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        line.erase(0, start);
        if (line.rfind("export ", 0) == 0) line.erase(0, line.find_first_not_of(" \t", 7));
        std::string key = line.substr(0, line.find('='));
        if (key.empty() || key.find_first_of(" \t") != std::string::npos)
            return make_error(CTR_E_INVALID_ARGUMENT, "--env-file: " + file + ":" + std::to_string(line_no) +
                                                          ": \"" + key + "\" is not a variable name");
        lines.push_back(line);
    }
    return resolve_env(lines);
}

namespace {

bool relative_path(const std::string& source) {
    return source == "." || source == ".." || source.rfind("./", 0) == 0 || source.rfind("../", 0) == 0;
}

std::string absolute_of(const std::string& source) {
    std::error_code ec;
    auto p = std::filesystem::absolute(source, ec).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return ec ? source : p;
}

}  // namespace

std::string absolute_volume_source(const std::string& volume) {
    auto colon = volume.find(':');
    if (colon == std::string::npos || !relative_path(volume.substr(0, colon))) return volume;
    return absolute_of(volume.substr(0, colon)) + volume.substr(colon);
}

std::string absolute_mount_source(const std::string& mount) {
    std::string out;
    size_t start = 0;
    while (start <= mount.size()) {
        size_t comma = mount.find(',', start);
        std::string field = mount.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto eq = field.find('=');
        if (eq != std::string::npos && (field.substr(0, eq) == "source" || field.substr(0, eq) == "src") &&
            relative_path(field.substr(eq + 1)))
            field = field.substr(0, eq + 1) + absolute_of(field.substr(eq + 1));
        if (start != 0) out += ',';
        out += field;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

Result<std::string> resolve_security_opt(const std::string& opt, const std::string& base) {
    auto sep = opt.find_first_of("=:");
    if (sep == std::string::npos || opt.substr(0, sep) != "seccomp") return opt;
    std::string value = opt.substr(sep + 1);
    if (value == "unconfined" || (!value.empty() && value.front() == '{')) return opt;
    std::filesystem::path file = value;
    if (file.is_relative()) file = (base.empty() ? std::filesystem::current_path() : std::filesystem::path(base)) / file;
    auto text = sys::read_file(file);
    if (!text) return make_error(CTR_E_INVALID_ARGUMENT, "--security-opt seccomp=" + value + ": cannot read " + file.string() + ": " +
                                                             text.error().message);
    return "seccomp=" + *text;
}

}  // namespace ctr::cli
