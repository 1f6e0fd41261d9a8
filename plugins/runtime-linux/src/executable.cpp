#include "executable.hpp"

#include <ctr/sys/files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace runtime_linux {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

enum class Found { file, missing, not_executable };

// `path` (absolute in the container) resolved inside `root`, followed to a file.
Found look_at(int root, const std::string& path) {
    ctr::sys::UniqueFd fd = ctr::sys::open_in_root(root, path, O_PATH);
    if (!fd.valid()) return errno == ENOENT || errno == ENOTDIR ? Found::missing : Found::not_executable;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) return Found::not_executable;
    return Found::file;
}

std::string path_of(const nlohmann::json& process) {
    for (const auto& e : process.value("env", nlohmann::json::array()))
        if (e.is_string() && e.get<std::string>().rfind("PATH=", 0) == 0) return e.get<std::string>().substr(5);
    return kDefaultPath;
}

}  // namespace

ctr::Status find_executable(pid_t pid, const nlohmann::json& process) {
    const auto& args = process.value("args", nlohmann::json::array());
    if (args.empty() || !args[0].is_string()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "exec: process.args is empty");
    const std::string program = args[0];
    std::string proc_root = "/proc/" + std::to_string(pid) + "/root";
    ctr::sys::UniqueFd root(::open(proc_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return ctr::ok();  // cannot look: the OCI runtime will say

    if (program.find('/') != std::string::npos) {
        std::string cwd = process.value("cwd", std::string("/"));
        std::string path = program.front() == '/' ? program : cwd + "/" + program;
        switch (look_at(root.get(), path)) {
        case Found::file: return ctr::ok();
        case Found::missing: return ctr::make_error(CTR_E_NOT_FOUND, "exec: " + program + ": no such file or directory");
        case Found::not_executable: return ctr::make_error(CTR_E_PERMISSION_DENIED, "exec: " + program + ": permission denied");
        }
    }
    bool seen = false;
    std::string dirs = path_of(process);
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t colon = dirs.find(':', start);
        std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (dir.empty()) dir = process.value("cwd", std::string("/"));
        Found f = look_at(root.get(), dir + "/" + program);
        if (f == Found::file) return ctr::ok();
        seen = seen || f == Found::not_executable;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (seen) return ctr::make_error(CTR_E_PERMISSION_DENIED, "exec: " + program + ": permission denied");
    return ctr::make_error(CTR_E_NOT_FOUND, "exec: executable file `" + program + "` not found in $PATH");
}

}  // namespace runtime_linux
