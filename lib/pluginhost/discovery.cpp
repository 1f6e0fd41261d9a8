#include <ctr/pluginhost/discovery.hpp>

#include <algorithm>
#include <sstream>

namespace ctr::pluginhost {

std::vector<std::filesystem::path> search_path(const SearchPathInputs& in) {
    std::vector<std::filesystem::path> out;
    if (in.running_from_build_tree)
        for (const auto& d : in.build_dirs) out.push_back(d);
    if (!in.install_dir.empty()) out.push_back(in.install_dir);
    if (!in.etc_dir.empty()) out.push_back(in.etc_dir);
    std::stringstream ss(in.env_path);
    std::string item;
    while (std::getline(ss, item, ':'))
        if (!item.empty()) out.push_back(std::filesystem::absolute(item).lexically_normal());
    return out;
}

std::vector<Candidate> scan_dirs(const std::vector<std::filesystem::path>& dirs) {
    std::vector<Candidate> out;
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) continue;
        std::vector<std::filesystem::path> folders;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
            std::error_code ec2;
            if (e.is_directory(ec2) && std::filesystem::exists(e.path() / "config.toml", ec2))
                folders.push_back(e.path());
        }
        std::sort(folders.begin(), folders.end());
        for (const auto& f : folders) {
            auto manifest = f / "config.toml";
            out.push_back(Candidate{f, manifest, parse_manifest(manifest)});
        }
    }
    return out;
}

}  // namespace ctr::pluginhost
