// container-vm-kernel: manages the guest kernels of runtime-microvm. It is
// the plugin's [[commands]] entry "kernel": the CLI's `container system
// kernel ...` runs it, and the daemon runs `update` at start when the
// setting kernel_auto_update is true. The host gives the plugin's state dir
// and settings in CONTAINER_PLUGIN_STATE_DIR and CONTAINER_PLUGIN_CONFIG.
//
//   set --recommended | --package FILE.deb | --binary FILE | --tar FILE --digest sha256:HEX
//   ls [--format json] [-q]
//   update [--from DIR]      a newer cloud kernel package (from apt, or the newest .deb in DIR)
//   rollback                 back to the kernel before the current one
//
// Every new kernel boots a test VM before it becomes current.
#include "accel.hpp"
#include "kernel_store.hpp"
#include "runtime.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/userns.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using microvm::KernelSource;
using microvm::KernelStore;

constexpr const char* kRecommendedPackage = "linux-image-cloud-amd64";

int fail(const std::string& message, int code = 125) {
    std::fprintf(stderr, "container: %s\n", message.c_str());
    return code;
}

fs::path self_dir() {
    std::error_code ec;
    return fs::read_symlink("/proc/self/exe", ec).parent_path();
}

// `tools`: where this program and the guest agent are (self_dir(), read
// before we enter a user namespace: /proc/self/exe may not resolve there).
KernelStore::BootTest boot_test_for(const KernelStore& store, const std::string& accel, const fs::path& tools) {
    return [&store, accel, tools](const fs::path& dir) {
        microvm::VmConfig base;
        base.accel = microvm::choose_accel(accel);
        if (!base.accel.warning.empty()) std::fprintf(stderr, "warning: %s\n", base.accel.warning.c_str());
        std::fprintf(stderr, "booting a test vm with the new kernel...\n");
        return microvm::boot_test(dir, store, tools / "container-vm-agent", base);
    };
}

// apt's name for the package the recommended metapackage points at now.
ctr::Result<std::string> recommended_package() {
    std::string apt = ctr::sys::find_program("apt-cache");
    if (apt.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "--recommended needs apt-cache (a Debian host)");
    auto r = CTR_TRY(ctr::sys::run_capture({apt, "depends", "--no-recommends", "--no-suggests", kRecommendedPackage}, 60000));
    std::stringstream ss(r.out);
    std::string line;
    while (std::getline(ss, line)) {
        auto at = line.find("Depends: ");
        if (at != std::string::npos) return line.substr(at + 9);
    }
    return ctr::make_error(CTR_E_NOT_FOUND, std::string("apt knows no ") + kRecommendedPackage + " (run apt-get update?)");
}

// Fetches a package into `dir` with apt-get download, which checks it
// against the archive's signed index. Returns the file.
ctr::Result<fs::path> download(const std::string& package, const fs::path& dir) {
    std::string apt = ctr::sys::find_program("apt-get");
    if (apt.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "--recommended needs apt-get (a Debian host)");
    std::fprintf(stderr, "downloading %s...\n", package.c_str());
    ctr::sys::RunOptions o;
    o.timeout_ms = 600000;
    o.capture_stderr = true;
    o.cwd = dir.string();
    auto r = CTR_TRY(ctr::sys::run_capture({apt, "download", package}, o));
    if (!r.status.success()) return ctr::make_error(CTR_E_UNAVAILABLE, "apt-get download " + package + ": " + r.err.substr(0, r.err.find('\n')));
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".deb") return e.path();
    return ctr::make_error(CTR_E_INTERNAL, "apt-get download " + package + " left no package");
}

// The plugin's settings as the host hands them to its commands; {} when none.
nlohmann::json plugin_settings() {
    const char* env = std::getenv("CONTAINER_PLUGIN_CONFIG");
    auto j = nlohmann::json::parse(env ? env : "{}", nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
}

std::string setting(const nlohmann::json& settings, const char* key, const std::string& fallback) {
    auto it = settings.find(key);
    return it != settings.end() && it->is_string() && !it->get<std::string>().empty() ? it->get<std::string>() : fallback;
}

struct TempDir {
    fs::path path;
    TempDir() {
        char t[] = "/tmp/container-kernel-XXXXXX";
        if (::mkdtemp(t)) path = t;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

// 1 when a > b, as dpkg orders versions.
bool newer(const std::string& a, const std::string& b) {
    if (b.empty()) return true;
    std::string dpkg = ctr::sys::find_program("dpkg");
    if (dpkg.empty()) return a > b;
    auto r = ctr::sys::run_capture({dpkg, "--compare-versions", a, "gt", b}, 10000);
    return r && r->status.success();
}

void print_kernel(const nlohmann::json& k, const char* what) {
    std::printf("%s %s (%s)\n", what, k.value("name", "").c_str(), k.value("version", "").c_str());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"container-vm-kernel: guest kernels of runtime-microvm", "container system kernel"};
    auto settings = plugin_settings();
    const char* env_state = std::getenv("CONTAINER_PLUGIN_STATE_DIR");
    std::string state_dir = env_state ? env_state : "", accel = setting(settings, "accel", "auto"), format = "table";
    // Given by the host, not by the user: kept out of the help users see.
    app.add_option("--state-dir", state_dir, "the plugin's state directory")->group("");
    app.add_option("--accel", accel, "auto, kvm or tcg, for the boot test");
    app.require_subcommand(1);

    auto* set = app.add_subcommand("set", "install a guest kernel and make it current");
    bool recommended = false;
    std::string package, binary, tar, digest;
    set->add_flag("--recommended", recommended, "Debian's cloud kernel, through apt-get download");
    set->add_option("--package", package, "a linux-image .deb file");
    set->add_option("--binary", binary, "a kernel image with the virtio drivers built in");
    set->add_option("--tar", tar, "a tar holding boot/vmlinuz* and the virtio modules");
    set->add_option("--digest", digest, "with --tar: its sha256:<hex>");

    auto* ls = app.add_subcommand("ls", "list installed guest kernels");
    bool quiet = false;
    ls->add_option("--format", format, "table or json");
    ls->add_flag("-q,--quiet", quiet, "print names only");

    auto* update = app.add_subcommand("update", "install a newer cloud kernel, keeping the current one as previous");
    std::string from = setting(settings, "kernel_update_from", "");
    update->add_option("--from", from, "take the newest linux-image .deb in this directory instead of apt (default: the setting kernel_update_from)");

    auto* rollback = app.add_subcommand("rollback", "go back to the previous kernel");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // One line in the CLI's own voice, and where its help is.
        std::string where = "container system kernel";
        for (const auto* sub : app.get_subcommands()) where += " " + sub->get_name();
        std::fprintf(stderr, "container: %s\nRun '%s --help' for usage.\n", e.what(), where.c_str());
        return 125;
    }
    if (state_dir.empty()) return fail("no state directory (the CLI gives it: run this as `container system kernel`)");
    // An ordinary user's (rootless) store: the test boot's virtiofsd must be
    // root, so we become root of a user namespace of the user's, as the
    // user's daemon is (no thread has started yet). What we write still
    // belongs to the user. Where we are is read first: in the new mount
    // namespace /proc/self/exe can lose the folders a bind mount gave it
    // (found in CI, whose build tree the test reaches through one).
    const fs::path tools = self_dir();
    if (::geteuid() != 0) {
        auto ns = ctr::sys::enter_user_namespace();
        if (!ns) return fail("rootless: " + ns.error().message);
        if (ns->single_id) std::fprintf(stderr, "warning: %s\n", ns->warning.c_str());
    }
    // The plugin's state dir, private as the host makes it for a plugin: the
    // CLI and the daemon's auto update both run us before any shim may have.
    if (auto st = ctr::sys::make_dirs(state_dir, 0700); !st) return fail(st.error().message);
    // Where the plugin looks for kernels (its setting kernels_dir), so that
    // what this tool installs is what the VMs boot.
    KernelStore store(setting(settings, "kernels_dir", (fs::path(state_dir) / "kernels").string()));
    auto test = boot_test_for(store, accel, tools);

    if (*ls) {
        auto list = store.list();
        if (!list) return fail(list.error().message);
        if (quiet) {
            for (const auto& k : *list) std::printf("%s\n", k.value("name", "").c_str());
            return 0;
        }
        if (format == "json") {
            std::printf("%s\n", list->dump(2).c_str());
            return 0;
        }
        if (format != "table") return fail("--format: \"" + format + "\" is not table or json");
        std::printf("%-44s %-20s %-8s %s\n", "NAME", "VERSION", "STATE", "INSTALLED");
        for (const auto& k : *list) {
            std::time_t t = k.value("installed_at", int64_t{0});
            char when[32];
            std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::gmtime(&t));
            std::string st = k.value("current", false) ? "current" : k.value("previous", false) ? "previous" : "";
            std::printf("%-44s %-20s %-8s %s\n", k.value("name", "").c_str(), k.value("version", "").c_str(), st.c_str(), when);
        }
        return 0;
    }
    if (*rollback) {
        auto k = store.rollback();
        if (!k) return fail(k.error().message);
        print_kernel(*k, "current kernel:");
        return 0;
    }
    if (*set) {
        int given = recommended + !package.empty() + !binary.empty() + !tar.empty();
        if (given != 1) return fail("kernel set needs exactly one of --recommended, --package, --binary, --tar");
        if (!digest.empty() && tar.empty()) return fail("--digest goes with --tar");
        TempDir tmp;
        KernelSource source;
        if (recommended) {
            auto name = recommended_package();
            if (!name) return fail(name.error().message);
            auto file = download(*name, tmp.path);
            if (!file) return fail(file.error().message);
            source = {KernelSource::package, *file, ""};
        } else if (!package.empty()) {
            source = {KernelSource::package, package, ""};
        } else if (!binary.empty()) {
            source = {KernelSource::binary, binary, ""};
        } else {
            source = {KernelSource::tar, tar, digest};
        }
        auto k = store.install(source, test);
        if (!k) return fail(k.error().message);
        print_kernel(*k, "current kernel:");
        return 0;
    }
    // update
    TempDir tmp;
    fs::path file;
    std::string version;
    if (!from.empty()) {
        std::error_code ec;
        if (!fs::is_directory(from, ec)) return fail("--from: " + from + " is not a directory");
        for (const auto& e : fs::directory_iterator(from, ec)) {
            if (e.path().extension() != ".deb" || e.path().filename().string().rfind("linux-image-", 0) != 0) continue;
            auto control = microvm::package_control(e.path());
            if (!control) continue;
            std::string v = control->value("Version", "");
            if (file.empty() || newer(v, version)) {
                file = e.path();
                version = v;
            }
        }
        if (file.empty()) return fail("--from: no linux-image package in " + from);
    } else {
        auto name = recommended_package();
        if (!name) return fail(name.error().message);
        auto got = download(*name, tmp.path);
        if (!got) return fail(got.error().message);
        file = *got;
        auto control = microvm::package_control(file);
        if (!control) return fail(control.error().message);
        version = control->value("Version", "");
    }
    std::string current = store.current_version();
    if (!newer(version, current)) {
        std::printf("kernel %s is up to date\n", current.c_str());
        return 0;
    }
    auto k = store.install({KernelSource::package, file, ""}, test);
    if (!k) return fail(k.error().message);
    print_kernel(*k, "updated to");
    return 0;
}
