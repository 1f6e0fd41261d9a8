#include "services/seccomp.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace ctr::services {

extern const char* const kDefaultSeccompProfile;  // generated from configs/seccomp.json
extern const char* const kKnownSyscalls[];        // generated from <sys/syscall.h>
extern const size_t kKnownSyscallCount;

namespace {

using nlohmann::json;

const std::set<std::string>& actions() {
    static const std::set<std::string> a = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                            "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"};
    return a;
}

const std::set<std::string>& operators() {
    static const std::set<std::string> o = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                            "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
    return o;
}

// This machine in libseccomp's words and in Docker's (the `arches` of
// includes and excludes).
struct Arch {
    const char* scmp;
    const char* docker;
};
constexpr Arch kArch =
#if defined(__x86_64__)
    {"SCMP_ARCH_X86_64", "amd64"};
#elif defined(__aarch64__)
    {"SCMP_ARCH_AARCH64", "arm64"};
#else
    {"", ""};
#endif

// A list of strings in the profile; anything else there is passed over.
std::vector<std::string> profile_strings(const json& j, const char* key) {
    std::vector<std::string> out;
    if (j.is_object() && j.contains(key) && j[key].is_array())
        for (const auto& v : j[key])
            if (v.is_string()) out.push_back(v);
    return out;
}

// "5.10.0-26-amd64" -> (5, 10)
std::pair<int, int> kernel_of(const std::string& release) {
    int major = 0, minor = 0;
    std::sscanf(release.c_str(), "%d.%d", &major, &minor);
    return {major, minor};
}

bool applies(const json& entry, const std::vector<std::string>& caps) {
    auto has_cap = [&](const std::string& c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
    auto has_arch = [](const std::vector<std::string>& arches) {
        return std::find(arches.begin(), arches.end(), kArch.docker) != arches.end();
    };
    const json inc = entry.value("includes", json::object()), exc = entry.value("excludes", json::object());
    for (const auto& c : profile_strings(inc, "caps"))
        if (!has_cap(c)) return false;
    if (auto arches = profile_strings(inc, "arches"); !arches.empty() && !has_arch(arches)) return false;
    if (inc.is_object() && inc.contains("minKernel") && inc["minKernel"].is_string()) {
        utsname u{};
        if (::uname(&u) == 0 && kernel_of(u.release) < kernel_of(inc["minKernel"].get<std::string>())) return false;
    }
    for (const auto& c : profile_strings(exc, "caps"))
        if (has_cap(c)) return false;
    if (has_arch(profile_strings(exc, "arches"))) return false;
    return true;
}

Status field_error(const std::string& field, const std::string& what) {
    return make_error(CTR_E_INVALID_ARGUMENT, "seccomp profile: " + field + " " + what);
}

Status check_args(const json& args, const std::string& at) {
    if (!args.is_array()) return field_error(at, "must be an array");
    for (size_t i = 0; i < args.size(); ++i) {
        const json& a = args[i];
        const std::string here = at + "[" + std::to_string(i) + "]";
        if (!a.is_object()) return field_error(here, "must be an object");
        if (!a.contains("index") || !a["index"].is_number_unsigned() || a["index"].get<uint64_t>() > 5)
            return field_error(here + ".index", "must be 0 to 5");
        if (!a.contains("value") || !a["value"].is_number_unsigned()) return field_error(here + ".value", "must be a number");
        if (!a.contains("op") || !a["op"].is_string() || !operators().count(a["op"].get<std::string>()))
            return field_error(here + ".op", "must be one of SCMP_CMP_EQ, NE, LT, LE, GE, GT, MASKED_EQ");
    }
    return ok();
}

// A refusing profile answers its errno (EPERM) for every call it does not
// allow, new ones too, and a program cannot tell "refused" from "not there":
// a call newer than this build's headers, or one the profile never names,
// gets ENOSYS instead, so the program's fallback for an older kernel runs.
// Calls a conditional rule covers (socket, clone, personality) keep what
// their rules say, and ENOSYS for the cases no rule matches.
void refuse_known(const json& profile, json& rules, json& out) {
    std::set<std::string> refused(kKnownSyscalls, kKnownSyscalls + kKnownSyscallCount);
    for (const auto& s : profile.value("syscalls", json::array())) {
        for (const auto& n : profile_strings(s, "names")) refused.insert(n);
        if (s.contains("name") && s["name"].is_string()) refused.insert(s["name"].get<std::string>());
    }
    for (const auto& r : rules)
        for (const auto& n : r["names"]) refused.erase(n.get<std::string>());
    const int64_t refused_errno = profile.value("defaultErrnoRet", int64_t{1});
    out["defaultErrnoRet"] = 38;  // ENOSYS
    if (!refused.empty()) rules.push_back({{"names", refused}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", refused_errno}});
}

}  // namespace

const json& default_seccomp_profile() {
    static const json profile = json::parse(kDefaultSeccompProfile);
    return profile;
}

Status check_seccomp_profile(const json& p) {
    if (!p.is_object()) return field_error("", "must be a JSON object");
    if (!p.contains("defaultAction") || !p["defaultAction"].is_string() || !actions().count(p["defaultAction"].get<std::string>()))
        return field_error("defaultAction", p.contains("defaultAction") ? p["defaultAction"].dump() + " is not a seccomp action" : "is missing");
    if (!p.contains("syscalls")) return ok();
    if (!p["syscalls"].is_array()) return field_error("syscalls", "must be an array");
    for (size_t i = 0; i < p["syscalls"].size(); ++i) {
        const json& s = p["syscalls"][i];
        const std::string at = "syscalls[" + std::to_string(i) + "]";
        if (!s.is_object()) return field_error(at, "must be an object");
        const bool named = (s.contains("names") && s["names"].is_array()) || (s.contains("name") && s["name"].is_string());
        if (!named) return field_error(at + ".names", "must be an array of system call names");
        if (!s.contains("action") || !s["action"].is_string() || !actions().count(s["action"].get<std::string>()))
            return field_error(at + ".action", s.contains("action") ? s["action"].dump() + " is not a seccomp action" : "is missing");
        if (s.contains("args") && !s["args"].is_null()) CTR_TRY_STATUS(check_args(s["args"], at + ".args"));
    }
    return ok();
}

json oci_seccomp(const json& profile, const std::vector<std::string>& caps) {
    json out = {{"defaultAction", profile.value("defaultAction", "SCMP_ACT_ERRNO")}};
    if (profile.contains("defaultErrnoRet")) out["defaultErrnoRet"] = profile["defaultErrnoRet"];
    json arches = json::array();
    for (const auto& m : profile.value("archMap", json::array()))
        if (m.value("architecture", "") == kArch.scmp) {
            arches.push_back(kArch.scmp);
            for (const auto& sub : profile_strings(m, "subArchitectures")) arches.push_back(sub);
        }
    if (arches.empty() && profile.contains("architectures")) arches = profile["architectures"];
    if (arches.empty() && *kArch.scmp) arches.push_back(kArch.scmp);
    out["architectures"] = arches;
    // Rules without argument checks, merged by action and deduplicated: a
    // call two capabilities allow (syslog) is one rule, not two.
    std::map<std::tuple<std::string, int64_t, bool>, std::set<std::string>> plain;
    json conditional = json::array();
    for (const auto& s : profile.value("syscalls", json::array())) {
        if (!applies(s, caps)) continue;
        std::vector<std::string> names = profile_strings(s, "names");
        if (s.contains("name") && s["name"].is_string()) names.push_back(s["name"]);
        const bool has_errno = s.contains("errnoRet");
        const int64_t errno_ret = has_errno ? s["errnoRet"].get<int64_t>() : 0;
        if (s.contains("args") && s["args"].is_array() && !s["args"].empty()) {
            json rule = {{"names", names}, {"action", s["action"]}, {"args", s["args"]}};
            if (has_errno) rule["errnoRet"] = errno_ret;
            conditional.push_back(rule);
        } else {
            plain[{s["action"].get<std::string>(), errno_ret, has_errno}].insert(names.begin(), names.end());
        }
    }
    json rules = json::array();
    for (const auto& [key, names] : plain) {
        json rule = {{"names", names}, {"action", std::get<0>(key)}};
        if (std::get<2>(key)) rule["errnoRet"] = std::get<1>(key);
        rules.push_back(rule);
    }
    for (auto& r : conditional) rules.push_back(std::move(r));
    if (out["defaultAction"] == "SCMP_ACT_ERRNO") refuse_known(profile, rules, out);
    out["syscalls"] = rules;
    return out;
}

}  // namespace ctr::services
