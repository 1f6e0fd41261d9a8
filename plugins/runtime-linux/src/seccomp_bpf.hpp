// A container's seccomp filter compiled once per profile instead of at every
// create. crun (Debian 12 has 1.8.1) compiles the spec's linux.seccomp with
// libseccomp when it creates a container: about 10 ms of every `run` here for
// the default allow-list, the same profile each time.
// crun takes a compiled filter from the annotation run.oci.seccomp_bpf_data
// (the sock_filter array, base64) and then skips its own compile, so the
// plugin compiles each distinct profile the way crun reads it, keeps the
// program on disk for the shims that come after, and hands it over in the
// bundle. (crun's NEWS lists a cache of its own from 1.7 on; with 1.8.1 this
// still measured about 8 ms less per run. runc has neither.)
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace runtime_linux {

// The BPF program of an OCI linux.seccomp section, read as crun reads it:
// the default action (errno EPERM unless defaultErrnoRet), the
// architectures, then each rule whose action differs from the default, for
// each syscall name this libseccomp knows (others are skipped, as crun
// warns and skips them); argument checks on distinct arguments in one rule,
// several checks of one argument as one rule each. An error names what it
// could not translate (a NOTIFY action among them: its listener is crun's).
ctr::Result<std::string> compile_seccomp(const nlohmann::json& seccomp);

// What the cache is keyed by: the section as written, this libseccomp's
// version and this kernel (its seccomp API level shapes the program).
std::string seccomp_cache_key(const nlohmann::json& seccomp);

// Puts the compiled filter of the bundle's config.json in its annotations
// when the spec has a seccomp section and no such annotation: from
// `cache_dir` when compiled before, else compiled and kept there. Whatever
// fails leaves the bundle as it was, and crun compiles the profile itself.
// Whether the annotation was added.
bool precompile_seccomp(const std::filesystem::path& bundle, const std::filesystem::path& cache_dir);

inline constexpr const char* kSeccompBpfAnnotation = "run.oci.seccomp_bpf_data";

}  // namespace runtime_linux
