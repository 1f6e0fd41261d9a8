// COPY --from=STAGE|IMAGE: the paths (wildcards expanded in that image) are
// read from a container of the other image through the cp helper (so they
// resolve inside that image's root), renamed under the destination with the
// step's owner and mode, and unpacked into the step's container like any COPY.
#include "apiserver/build/build_run.hpp"

#include "apiserver/build/image_paths.hpp"
#include "apiserver/copy_routes.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <memory>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : b.empty() ? a : a + "/" + b; }

// The entries of the tar at `in` (top entry ".") appended to `out`, each
// named by `rename` ("" leaves it out), owned by uid:gid, with `chmod`.
Status retar(const fs::path& in, archive* out, const std::function<std::string(const std::string&)>& rename, long uid, long gid, int chmod) {
    std::unique_ptr<archive, ReadFree> a(archive_read_new());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), in.c_str(), 1 << 16) != ARCHIVE_OK)
        return make_error(CTR_E_INTERNAL, std::string("read the copy: ") + archive_error_string(a.get()));
    archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
        std::string name = rename(archive_entry_pathname(e));
        if (name.empty()) continue;
        archive_entry_set_pathname(e, name.c_str());
        if (const char* link = archive_entry_hardlink(e)) archive_entry_set_hardlink(e, rename(link).c_str());
        archive_entry_set_uid(e, uid >= 0 ? uid : 0);
        archive_entry_set_gid(e, gid >= 0 ? gid : 0);
        archive_entry_set_uname(e, "");
        archive_entry_set_gname(e, "");
        if (chmod >= 0 && archive_entry_filetype(e) != AE_IFLNK) archive_entry_set_perm(e, static_cast<mode_t>(chmod));
        if (archive_write_header(out, e) < ARCHIVE_WARN) return make_error(CTR_E_INTERNAL, std::string("write the copy: ") + archive_error_string(out));
        const void* buf;
        size_t size;
        la_int64_t off;
        while (archive_read_data_block(a.get(), &buf, &size, &off) == ARCHIVE_OK) archive_write_data(out, buf, size);
    }
    if (r != ARCHIVE_EOF) return make_error(CTR_E_INTERNAL, std::string("read the copy: ") + archive_error_string(a.get()));
    return ok();
}

// "./a/b" or "." as the part below the top ("a/b" or "").
std::string below_top(const std::string& name) {
    if (name == "." || name == "./") return "";
    if (name.rfind("./", 0) == 0) return name.substr(2);
    return name;
}

}  // namespace

Result<std::string> BuildRun::copy_from_step(const StageState& s, const ctr::build::Instruction& ins, const CopyPlan& plan) {
    const std::string& image = plan.from_image;
    const std::vector<std::string>& paths = plan.from_paths;
    const json idle = {{"cmd", json::array({"true"})}, {"entrypoint", json::array()}, {"networks", json::array({"none"})}};
    StageState source;
    source.ref = image;
    source.image = {{"config", json::object()}};
    auto from = CTR_TRY(make_container(source, idle));
    ContainerGuard from_guard{cs_, from.id};
    auto to = CTR_TRY(make_container(s, idle));
    ContainerGuard to_guard{cs_, to.id};
    std::vector<std::string> matched;
    {
        auto hold = CTR_TRY(cs_.hold_rootfs(from));
        for (const auto& p : paths) {
            auto found = CTR_TRY(glob_in_root(cs_.dir_of(from.id) / "rootfs", p));
            if (found.empty()) return ctr::build::instruction_error(plan_.file, ins, ins.keyword + " --from: " + p + ": no file matches in " + image);
            matched.insert(matched.end(), found.begin(), found.end());
        }
    }
    std::vector<std::pair<std::string, bool>> items;  // absolute path, a directory
    for (const auto& abs : matched) {
        auto st = path_stat(cs_, from, abs, true);
        if (!st) return ctr::build::instruction_error(plan_.file, ins, ins.keyword + " --from: " + abs + ": no such file or directory in " + image);
        items.emplace_back(abs, (*st).value("kind", "") == "directory");
    }
    auto where = CTR_TRY(place(s, to, plan.dest, items.size() > 1 || (items.size() == 1 && items[0].second)));
    auto owner = owner_in(to, plan);
    if (!owner) return ctr::build::instruction_error(plan_.file, ins, owner.error().message);
    auto [uid, gid] = *owner;
    ScratchFile out{scratch_file("copy")};
    std::unique_ptr<archive, WriteFree> w(archive_write_new());
    archive_write_set_format_pax_restricted(w.get());
    if (archive_write_open_filename(w.get(), out.path.c_str()) != ARCHIVE_OK)
        return make_error(CTR_E_INTERNAL, std::string("create the copy: ") + archive_error_string(w.get()));
    if (where.dir && !where.exists && !where.rel.empty()) {
        // A folder the COPY makes is the --chown owner's, as its contents are.
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, where.rel.c_str());
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_uid(e, uid);
        archive_entry_set_gid(e, gid);
        archive_entry_set_mtime(e, ::time(nullptr), 0);
        int rc = archive_write_header(w.get(), e);
        archive_entry_free(e);
        if (rc < ARCHIVE_WARN) return make_error(CTR_E_INTERNAL, std::string("write the copy: ") + archive_error_string(w.get()));
    }
    for (const auto& [abs, dir] : items) {
        ScratchFile part{scratch_file("from")};
        {
            auto stream = CTR_TRY(path_tar(cs_, from, abs, "."));
            std::ofstream file(part.path, std::ios::binary | std::ios::trunc);
            stream([&file](std::string_view chunk) { return static_cast<bool>(file.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))); });
        }
        const std::string base = fs::path(abs).filename().string();
        const bool is_dir = dir;
        auto rename = [&where, &base, is_dir](const std::string& name) {
            std::string rest = below_top(name);
            if (is_dir) return rest.empty() ? std::string() : join(where.rel, rest);  // its contents, not itself
            return join(where.dir ? join(where.rel, base) : where.rel, rest);
        };
        CTR_TRY_STATUS(retar(part.path, w.get(), rename, uid, gid, plan.chmod));
    }
    if (archive_write_close(w.get()) != ARCHIVE_OK) return make_error(CTR_E_INTERNAL, std::string("close the copy: ") + archive_error_string(w.get()));
    return land(ins, to, out.path);
}

}  // namespace ctr::apiserver::build
