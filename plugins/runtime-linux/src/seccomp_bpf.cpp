#include "seccomp_bpf.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace runtime_linux {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Which cache entry the bundle's annotation came from: a filter some other
// hand put there (no such key) is left alone.
constexpr const char* kKeyAnnotation = "io.container.seccomp_bpf_key";
// Entries kept before the folder is emptied: one per distinct profile (and
// capability set) in use, so a handful in practice.
constexpr int kMaxEntries = 64;

ctr::Error bad(const std::string& what) { return ctr::make_error(CTR_E_INVALID_ARGUMENT, "seccomp: " + what); }

bool takes_errno(const std::string& action) { return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE"; }

ctr::Result<uint32_t> action_of(const std::string& name, uint32_t errno_ret) {
    static const std::map<std::string, uint32_t> plain = {
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW}, {"SCMP_ACT_KILL", SCMP_ACT_KILL},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},   {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS}, {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD}};
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret);
    if (auto a = plain.find(name); a != plain.end()) return a->second;
    return bad("action \"" + name + "\" is not compiled here");
}

ctr::Result<scmp_compare> op_of(const std::string& name) {
    static const std::map<std::string, scmp_compare> ops = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},       {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT}, {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    if (auto o = ops.find(name); o != ops.end()) return o->second;
    return bad("unknown operator \"" + name + "\"");
}

// The errno an action returns: EPERM unless the entry names one, which only
// ERRNO and TRACE may.
ctr::Result<uint32_t> action_in(const json& entry, const char* action_key, const char* errno_key) {
    const std::string name = entry.value(action_key, "");
    if (name.empty()) return bad(std::string("no ") + action_key);
    uint32_t errno_ret = EPERM;
    if (entry.contains(errno_key)) {
        if (!takes_errno(name)) return bad(std::string(errno_key) + " given for " + name);
        errno_ret = entry[errno_key].get<uint32_t>();
    }
    return action_of(name, errno_ret);
}

ctr::Status add_architectures(scmp_filter_ctx ctx, const json& seccomp) {
    for (const auto& a : seccomp.value("architectures", json::array())) {
        std::string arch = a.get<std::string>();
        if (arch.rfind("SCMP_ARCH_", 0) == 0) arch = arch.substr(10);
        std::transform(arch.begin(), arch.end(), arch.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        const uint32_t token = seccomp_arch_resolve_name(arch.c_str());
        if (token == 0) return bad("unknown architecture \"" + a.get<std::string>() + "\"");
        if (int rc = seccomp_arch_add(ctx, token); rc < 0 && rc != -EEXIST) return bad("architecture " + arch + ": " + std::strerror(-rc));
    }
    return ctr::ok();
}

// One entry of linux.seccomp.syscalls. Checks of distinct arguments must all
// hold (one rule); several checks of the same argument are alternatives
// (a rule each), which is how crun and runc read them.
ctr::Status add_rule(scmp_filter_ctx ctx, const json& rule, uint32_t default_action) {
    const uint32_t action = CTR_TRY(action_in(rule, "action", "errnoRet"));
    if (action == default_action) return ctr::ok();
    std::vector<scmp_arg_cmp> checks;
    bool repeated = false;
    unsigned seen[6] = {};
    for (const auto& a : rule.value("args", json::array())) {
        if (checks.size() == 6) break;  // a rule compares six arguments at most
        const auto index = a.value("index", 0U);
        if (index >= 6) return bad("argument index " + std::to_string(index) + " (0 to 5)");
        repeated = repeated || ++seen[index] > 1;
        checks.push_back({index, CTR_TRY(op_of(a.value("op", ""))), a.value("value", uint64_t{0}), a.value("valueTwo", uint64_t{0})});
    }
    for (const auto& n : rule.value("names", json::array())) {
        const std::string name = n.get<std::string>();
        const int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // newer than this libseccomp: crun skips it too
        int rc = 0;
        if (!repeated) {
            rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(checks.size()), checks.data());
        } else {
            for (const auto& check : checks)
                if ((rc = seccomp_rule_add_array(ctx, action, nr, 1, &check)) < 0) break;
        }
        if (rc < 0) return bad("rule for " + name + ": " + std::strerror(-rc));
    }
    return ctr::ok();
}

ctr::Result<std::string> export_bpf(scmp_filter_ctx ctx) {
    ctr::sys::UniqueFd fd(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
    if (!fd.valid()) return bad(std::string("memfd: ") + std::strerror(errno));
    if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) return bad(std::string("export: ") + std::strerror(-rc));
    const off_t size = ::lseek(fd.get(), 0, SEEK_END);
    if (size <= 0 || size % 8 != 0) return bad("export: a program of " + std::to_string(size) + " bytes");
    std::string bpf(static_cast<size_t>(size), '\0');
    if (::pread(fd.get(), bpf.data(), bpf.size(), 0) != size) return bad(std::string("export: ") + std::strerror(errno));
    return bpf;
}

ctr::Result<std::string> compile(const json& seccomp) {
    const uint32_t default_action = CTR_TRY(action_in(seccomp, "defaultAction", "defaultErrnoRet"));
    std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(default_action), seccomp_release);
    if (!ctx) return bad("libseccomp cannot start a filter");
    CTR_TRY_STATUS(add_architectures(ctx.get(), seccomp));
    for (const auto& rule : seccomp.value("syscalls", json::array())) CTR_TRY_STATUS(add_rule(ctx.get(), rule, default_action));
    return export_bpf(ctx.get());
}

std::string key_name(const std::string& key) {
    char name[24];
    std::snprintf(name, sizeof(name), "%016zx", std::hash<std::string>()(key));
    return name;
}

// The entry is the key, a NUL, then the program: a hash that collides
// cannot hand over another profile's filter.
ctr::Result<std::string> cached_or_compiled(const json& seccomp, const std::string& key, const fs::path& dir) {
    const fs::path file = dir / key_name(key);
    if (auto kept = ctr::sys::read_file(file); kept && kept->size() > key.size() + 1 && kept->compare(0, key.size(), key) == 0 &&
                                               (*kept)[key.size()] == '\0')
        return kept->substr(key.size() + 1);
    auto bpf = CTR_TRY(compile_seccomp(seccomp));
    std::error_code ec;
    if (fs::exists(dir, ec) && std::distance(fs::directory_iterator(dir, ec), fs::directory_iterator()) >= kMaxEntries)
        fs::remove_all(dir, ec);
    (void)ctr::sys::make_dirs(dir, 0700);
    (void)ctr::sys::write_file_atomic(file, key + std::string(1, '\0') + bpf, 0600, ctr::sys::Durability::process_crash);
    return bpf;
}

}  // namespace

ctr::Result<std::string> compile_seccomp(const json& seccomp) {
    try {
        return compile(seccomp);
    } catch (const json::exception& e) {
        return bad(std::string("a field of the wrong type: ") + e.what());
    }
}

std::string seccomp_cache_key(const json& seccomp) {
    const scmp_version* v = seccomp_version();
    struct utsname u{};
    ::uname(&u);
    return seccomp.dump() + "\nlibseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro) +
           "\n" + u.release + " " + u.version + " " + u.machine;
}

bool precompile_seccomp(const fs::path& bundle, const fs::path& cache_dir) {
    const fs::path config = bundle / "config.json";
    auto text = ctr::sys::read_file(config);
    if (!text) return false;
    json spec = json::parse(*text, nullptr, false);
    if (!spec.is_object() || !spec.contains("linux") || !spec["linux"].is_object()) return false;
    const json seccomp = spec["linux"].value("seccomp", json());
    if (!seccomp.is_object()) return false;
    json& notes = spec["annotations"];
    if (notes.is_null()) notes = json::object();
    if (!notes.is_object()) return false;
    const std::string key = seccomp_cache_key(seccomp);
    const std::string name = key_name(key);
    if (notes.contains(kSeccompBpfAnnotation)) {
        if (!notes.contains(kKeyAnnotation)) return false;     // another's filter: kept
        if (notes[kKeyAnnotation] == name) return true;        // ours, and the profile is unchanged
    }
    auto bpf = cached_or_compiled(seccomp, key, cache_dir);
    if (!bpf) return false;
    notes[kSeccompBpfAnnotation] = ctr::base64_encode(*bpf);
    notes[kKeyAnnotation] = name;
    struct stat st{};
    const int mode = ::stat(config.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : 0600;
    return ctr::sys::write_file_atomic(config, spec.dump(), mode, ctr::sys::Durability::process_crash).has_value();
}

}  // namespace runtime_linux
