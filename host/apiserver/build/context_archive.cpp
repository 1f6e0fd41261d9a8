#include "apiserver/build/context_archive.hpp"

#include "copy/tar_tree.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <optional>
#include <random>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;

UnpackedContext::~UnpackedContext() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
}

namespace {

// A regular file at `rel` inside `root`, read through no link that leads out
// (the archive's symlinks could name the host's files).
std::optional<std::string> read_inside(const fs::path& root, const fs::path& rel) {
    sys::UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return std::nullopt;
    sys::UniqueFd fd = sys::open_in_root(dir.get(), rel.string(), O_RDONLY | O_NOFOLLOW);
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
}

}  // namespace

Result<std::shared_ptr<UnpackedContext>> unpack_context(const fs::path& lib_dir, const fs::path& tar, const std::string& dockerfile) {
    auto ctx = std::make_shared<UnpackedContext>();
    thread_local std::mt19937_64 rng{std::random_device{}()};
    ctx->dir = lib_dir / "build" / ("context-" + std::to_string(rng()));
    std::error_code ec;
    fs::create_directories(ctx->dir, ec);
    if (ec) return make_error(CTR_E_INTERNAL, "create \"" + ctx->dir.string() + "\": " + ec.message());
    sys::UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return make_error(CTR_E_NOT_FOUND, "cannot read the build context \"" + tar.string() + "\"");
    copy::ExtractOptions o;
    o.raw = true;
    o.dest = ctx->dir.string();
    o.keep_owner = true;
    if (auto st = copy::extract_tree(fd.get(), o); !st) return st.error().wrap("the build context");
    std::string name = dockerfile.empty() ? "Dockerfile" : dockerfile;
    fs::path rel = fs::path(name).lexically_normal();
    if (rel.is_absolute() || rel.string().rfind("..", 0) == 0)
        return make_error(CTR_E_INVALID_ARGUMENT, "dockerfile \"" + name + "\" must be a path inside the context");
    auto text = read_inside(ctx->dir, rel);
    if (!text && dockerfile.empty()) {
        rel = "Containerfile";
        text = read_inside(ctx->dir, rel);
    }
    if (!text) return make_error(CTR_E_NOT_FOUND, "Cannot locate specified Dockerfile: " + name);
    ctx->dockerfile = *text;
    ctx->dockerfile_name = rel.filename().string();
    if (auto own = read_inside(ctx->dir, rel.string() + ".dockerignore")) ctx->ignore = *own;
    else ctx->ignore = read_inside(ctx->dir, ".dockerignore").value_or("");
    return ctx;
}

}  // namespace ctr::apiserver::build
