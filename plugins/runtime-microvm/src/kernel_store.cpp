#include "kernel_store.hpp"

#include "initramfs.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <set>
#include <sstream>
#include <unistd.h>

namespace microvm {

namespace fs = std::filesystem;

const std::vector<std::string>& guest_modules() {
    static const std::vector<std::string> m = {"virtio_ring", "virtio",     "virtio_mmio", "virtio_console", "virtio_balloon",
                                               "fuse",        "virtiofs",   "failover",    "net_failover",   "virtio_net"};
    return m;
}

ctr::Result<std::string> file_sha256(const fs::path& path) {
    ctr::sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ctr::make_error(CTR_E_NOT_FOUND, path.string() + ": " + std::strerror(errno));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 16);
    ssize_t n;
    while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    if (n < 0) return ctr::make_error(CTR_E_INTERNAL, "read " + path.string() + ": " + std::strerror(errno));
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    std::string hex = "sha256:";
    char two[3];
    for (unsigned i = 0; i < len; ++i) {
        std::snprintf(two, sizeof two, "%02x", md[i]);
        hex += two;
    }
    return hex;
}

namespace {

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

ArchivePtr open_archive(const fs::path* file, const std::string* memory, bool ar) {
    ArchivePtr a(archive_read_new(), archive_read_free);
    if (ar) archive_read_support_format_ar(a.get());
    else {
        archive_read_support_format_tar(a.get());
        archive_read_support_filter_all(a.get());
    }
    int rc = file ? archive_read_open_filename(a.get(), file->c_str(), 1 << 16)
                  : archive_read_open_memory(a.get(), memory->data(), memory->size());
    if (rc != ARCHIVE_OK) return ArchivePtr(nullptr, archive_read_free);
    return a;
}

ctr::Result<std::string> read_entry(archive* a) {
    std::string out;
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    if (n < 0) return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("archive: ") + archive_error_string(a));
    return out;
}

// The members of a .deb: its control file and its data tarball.
struct Deb {
    std::string control, data;
};

ctr::Result<Deb> read_deb(const fs::path& path) {
    auto outer = open_archive(&path, nullptr, true);
    if (!outer) return ctr::make_error(CTR_E_INVALID_ARGUMENT, path.string() + " is not a debian package");
    Deb deb;
    archive_entry* e;
    while (archive_read_next_header(outer.get(), &e) == ARCHIVE_OK) {
        std::string name = archive_entry_pathname(e);
        if (name.rfind("control.tar", 0) == 0) {
            auto tar = CTR_TRY(read_entry(outer.get()));
            auto inner = open_archive(nullptr, &tar, false);
            archive_entry* ie;
            while (inner && archive_read_next_header(inner.get(), &ie) == ARCHIVE_OK)
                if (fs::path(archive_entry_pathname(ie)).filename() == "control") deb.control = CTR_TRY(read_entry(inner.get()));
        } else if (name.rfind("data.tar", 0) == 0) {
            deb.data = CTR_TRY(read_entry(outer.get()));
        }
    }
    if (deb.control.empty() || deb.data.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, path.string() + " is not a debian package (no control or data)");
    return deb;
}

nlohmann::json parse_control(const std::string& text) {
    nlohmann::json out = nlohmann::json::object();
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line)) {
        if (line.empty() || line[0] == ' ') continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        out[line.substr(0, colon)] = value;
    }
    return out;
}

// Takes the kernel image and the guest modules out of a tar (a package's
// data, or a kernel tarball): boot/vmlinuz* (or vmlinuz*) and */NAME.ko.
ctr::Status extract_kernel_tar(archive* a, const fs::path& staging) {
    std::set<std::string> wanted;
    for (const auto& m : guest_modules()) wanted.insert(m + ".ko");
    bool kernel = false;
    archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG) continue;
        fs::path p = fs::path(archive_entry_pathname(e)).lexically_normal();
        std::string file = p.filename().string();
        fs::path target;
        if (file.rfind("vmlinuz", 0) == 0 || file == "bzImage") target = staging / "vmlinuz";
        else if (wanted.count(file)) target = staging / "modules" / file;
        else if (file.rfind("config-", 0) == 0) target = staging / "config";
        else continue;
        auto data = CTR_TRY(read_entry(a));
        CTR_TRY_STATUS(ctr::sys::write_file_atomic(target, data, 0644));
        if (target.filename() == "vmlinuz") kernel = true;
    }
    if (!kernel) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "no kernel image (boot/vmlinuz*) in it");
    return ctr::ok();
}

std::string slug(std::string s) {
    for (auto& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
    return s;
}

}  // namespace

ctr::Result<nlohmann::json> package_control(const fs::path& deb) {
    auto d = CTR_TRY(read_deb(deb));
    return parse_control(d.control);
}

ctr::Result<fs::path> KernelStore::current() const {
    std::error_code ec;
    fs::path link = dir_ / "current";
    if (!fs::exists(link / "vmlinuz", ec))
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "no guest kernel is set: run `container system kernel set --recommended`");
    return fs::canonical(link, ec);
}

std::string KernelStore::current_version() const {
    auto text = ctr::sys::read_file(dir_ / "current" / "kernel.json");
    if (!text) return {};
    auto j = nlohmann::json::parse(*text, nullptr, false);
    return j.is_object() ? j.value("version", "") : "";
}

ctr::Result<nlohmann::json> KernelStore::list() const {
    nlohmann::json out = nlohmann::json::array();
    std::error_code ec;
    auto target = [&](const char* link) {
        auto t = fs::read_symlink(dir_ / link, ec);
        return ec ? std::string() : t.filename().string();
    };
    std::string cur = target("current"), prev = target("previous");
    if (!fs::is_directory(dir_, ec)) return out;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        if (!entry.is_directory() || entry.is_symlink() || entry.path().filename().string().front() == '.') continue;
        auto text = ctr::sys::read_file(entry.path() / "kernel.json");
        if (!text) continue;
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (!j.is_object()) continue;
        j["current"] = entry.path().filename() == cur;
        j["previous"] = entry.path().filename() == prev;
        out.push_back(j);
    }
    return out;
}

ctr::Status KernelStore::point(const std::string& link, const std::string& name) const {
    fs::path tmp = dir_ / ("." + link + ".new");
    ::unlink(tmp.c_str());
    if (::symlink(name.c_str(), tmp.c_str()) != 0) return ctr::make_error(CTR_E_INTERNAL, "symlink " + tmp.string() + ": " + std::strerror(errno));
    if (::rename(tmp.c_str(), (dir_ / link).c_str()) != 0) return ctr::make_error(CTR_E_INTERNAL, "rename " + tmp.string() + ": " + std::strerror(errno));
    ctr::sys::UniqueFd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.valid()) ::fsync(d.get());
    return ctr::ok();
}

ctr::Result<nlohmann::json> KernelStore::install(const KernelSource& source, const BootTest& test) {
    std::error_code ec;
    if (!fs::is_regular_file(source.path, ec)) return ctr::make_error(CTR_E_NOT_FOUND, "kernel source " + source.path.string() + " not found");
    CTR_TRY_STATUS(ctr::sys::make_dirs(dir_, 0755));
    char tmpl[] = ".staging-XXXXXX";
    fs::path staging = dir_ / tmpl;
    std::string staging_str = staging.string();
    if (!::mkdtemp(staging_str.data())) return ctr::make_error(CTR_E_INTERNAL, "mkdtemp: " + std::string(std::strerror(errno)));
    staging = staging_str;
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code e;
            if (!p.empty()) fs::remove_all(p, e);
        }
    } cleanup{staging};
    CTR_TRY_STATUS(ctr::sys::make_dirs(staging / "modules", 0755));

    nlohmann::json info = {{"source", fs::absolute(source.path).string()}};
    std::string name;
    switch (source.kind) {
    case KernelSource::package: {
        auto deb = read_deb(source.path);
        if (!deb) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--package: " + deb.error().message);
        auto control = parse_control(deb->control);
        auto data = open_archive(nullptr, &deb->data, false);
        if (!data) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--package: unreadable data in " + source.path.string());
        if (auto st = extract_kernel_tar(data.get(), staging); !st) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--package " + source.path.string() + ": " + st.error().message);
        info["package"] = control.value("Package", "");
        info["version"] = control.value("Version", "");
        name = slug(info["package"].get<std::string>() + "_" + info["version"].get<std::string>());
        break;
    }
    case KernelSource::tar: {
        if (source.digest.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--tar needs --digest sha256:<hex>");
        auto got = CTR_TRY(file_sha256(source.path));
        if (got != source.digest) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--digest: " + source.path.string() + " is " + got + ", not " + source.digest);
        auto a = open_archive(&source.path, nullptr, false);
        if (!a) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--tar: " + source.path.string() + " is not a tar archive");
        if (auto st = extract_kernel_tar(a.get(), staging); !st) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "--tar " + source.path.string() + ": " + st.error().message);
        info["version"] = got.substr(7, 12);
        name = "tar_" + got.substr(7, 12);
        break;
    }
    case KernelSource::binary: {
        auto data = CTR_TRY(ctr::sys::read_file(source.path));
        CTR_TRY_STATUS(ctr::sys::write_file_atomic(staging / "vmlinuz", data, 0644));
        break;
    }
    }
    auto sha = CTR_TRY(file_sha256(staging / "vmlinuz"));
    info["sha256"] = sha;
    if (name.empty()) {
        name = "binary_" + sha.substr(7, 12);
        info["version"] = sha.substr(7, 12);
    }
    info["name"] = name;
    info["installed_at"] = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    CTR_TRY_STATUS(ctr::sys::write_file_atomic(staging / "kernel.json", info.dump(2) + "\n", 0644));
    if (test)
        if (auto st = test(staging); !st)
            return ctr::make_error(static_cast<ctr_status>(st.error().status), "kernel " + name + " did not boot, so it was not switched to: " + st.error().message);

    fs::path final_dir = dir_ / name;
    auto cur = fs::read_symlink(dir_ / "current", ec);
    std::string old = ec ? std::string() : cur.filename().string();
    if (old == name) return info;  // already current: nothing to switch
    if (fs::exists(final_dir, ec)) fs::remove_all(final_dir, ec);  // a stale copy, not current
    if (::rename(staging.c_str(), final_dir.c_str()) != 0) return ctr::make_error(CTR_E_INTERNAL, "rename " + final_dir.string() + ": " + std::strerror(errno));
    cleanup.p.clear();
    if (!old.empty()) CTR_TRY_STATUS(point("previous", old));
    CTR_TRY_STATUS(point("current", name));
    return info;
}

ctr::Result<nlohmann::json> KernelStore::rollback() {
    std::error_code ec;
    auto prev = fs::read_symlink(dir_ / "previous", ec);
    if (ec || !fs::exists(dir_ / "previous" / "vmlinuz", ec)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "there is no previous kernel to roll back to");
    auto cur = fs::read_symlink(dir_ / "current", ec);
    std::string old = ec ? std::string() : cur.filename().string();
    CTR_TRY_STATUS(point("current", prev.filename().string()));
    if (!old.empty()) CTR_TRY_STATUS(point("previous", old));
    auto text = CTR_TRY(ctr::sys::read_file(dir_ / "current" / "kernel.json"));
    return nlohmann::json::parse(text, nullptr, false);
}

ctr::Result<fs::path> KernelStore::initramfs(const fs::path& kernel_dir, const fs::path& agent) const {
    fs::path out = kernel_dir / "initramfs.img";
    std::error_code ec, ec2;
    auto built = fs::last_write_time(out, ec);
    auto agent_time = fs::last_write_time(agent, ec2);
    if (ec2) return ctr::make_error(CTR_E_UNAVAILABLE, "guest agent " + agent.string() + " not found");
    if (!ec && built >= agent_time) return out;
    std::vector<InitramfsModule> modules;
    for (const auto& m : guest_modules()) {
        fs::path p = kernel_dir / "modules" / (m + ".ko");
        if (fs::exists(p, ec)) modules.push_back({m + ".ko", p});
    }
    CTR_TRY_STATUS(write_initramfs(out, agent, modules));
    return out;
}

}  // namespace microvm
