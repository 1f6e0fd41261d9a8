// `container cp`: files between a container and this machine, by Docker's
// rules (copy/copy_rules.hpp). The tree travels as a tar: out of the
// container it is unpacked here with the same care the daemon takes going in
// (no "..", no absolute names, nothing written through a symlink).
#include <ctr/base/strings.hpp>
#include "cli/app.hpp"
#include "cli/full_cli.hpp"
#include "cli/output.hpp"
#include "copy/tar_tree.hpp"
#include <ctr/sys/io.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ctr::cli {

namespace {

struct Side {
    std::string container;  // empty: a path on this machine
    std::string path;
};

// "NAME:PATH" names a container's path; a path that starts with "/" or "."
// is local even with a colon in it (write "./a:b").
Side parse_side(const std::string& arg) {
    if (arg.empty() || arg.front() == '/' || arg.front() == '.') return {"", arg};
    auto colon = arg.find(':');
    if (colon == std::string::npos || colon == 0 || arg.substr(0, colon).find('/') != std::string::npos) return {"", arg};
    return {arg.substr(0, colon), arg.substr(colon + 1)};
}

std::string archive_target(const std::string& container) { return "/v1/containers/" + url_escape(container) + "/archive"; }

Result<copy::Kind> kind_in(const api::Client& client, const Side& s, bool follow) {
    auto st = CTR_TRY(client.call("GET", archive_target(s.container) + "/stat?path=" + url_escape(s.path) + (follow ? "&follow=1" : "")));
    std::string k = st.value("kind", "missing");
    for (auto kind : {copy::Kind::file, copy::Kind::dir, copy::Kind::symlink, copy::Kind::other})
        if (k == copy::kind_name(kind)) return kind;
    return copy::Kind::missing;
}

struct Flags {
    bool archive = false, follow = false, quiet = false;
};

Status copy_out(const api::Client& client, const Side& src, const std::string& dest, const Flags& f, int64_t& bytes) {
    auto kind = CTR_TRY(kind_in(client, src, f.follow));
    if (kind == copy::Kind::missing)
        return make_error(CTR_E_NOT_FOUND, "no such file or directory in container " + src.container + ": " + src.path);
    std::string target = archive_target(src.container) + "?path=" + url_escape(src.path) + (f.follow ? "&follow=1" : "");
    if (dest == "-") {  // the tar itself, its top named as the source
        if (isatty(STDOUT_FILENO)) return make_error(CTR_E_INVALID_ARGUMENT, "cp: refusing to write a tar to a terminal");
        std::string top = copy::base_name(src.path);
        return client.stream(target + "&prefix=" + url_escape(top.empty() ? "." : top), [&bytes](std::string_view d) {
            bytes += static_cast<int64_t>(d.size());
            return std::fwrite(d.data(), 1, d.size(), stdout) == d.size();
        });
    }
    // Fail before anything moves when the destination cannot take it.
    (void)CTR_TRY(copy::place(kind, src.path, copy::kind_of(dest, true), dest));
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return make_error(CTR_E_INTERNAL, std::string("socketpair: ") + std::strerror(errno));
    sys::UniqueFd reader(sv[0]), writer(sv[1]);
    Status fetched = ok();
    std::thread fetch([&] {
        fetched = client.stream(target, [&](std::string_view d) {
            bytes += static_cast<int64_t>(d.size());
            return sys::send_all(writer.get(), d);
        });
        ::shutdown(writer.get(), SHUT_WR);
    });
    copy::ExtractOptions o;
    o.src = src.path;
    o.dest = dest;
    o.keep_owner = f.archive;
    Status extracted = copy::extract_tree(reader.get(), o);
    reader.reset();  // an extraction that stopped early stops the fetch
    fetch.join();
    if (!extracted) return extracted;
    return fetched;
}

Status copy_in(const api::Client& client, const std::string& src, const Side& dest, const Flags& f, int64_t& bytes) {
    bool raw = src == "-";
    std::string query = "?dest=" + url_escape(dest.path) + (f.archive ? "&archive=1" : "");
    if (raw) {
        query += "&raw=1";
    } else {
        auto kind = copy::kind_of(src, f.follow);
        if (kind == copy::Kind::missing) return make_error(CTR_E_NOT_FOUND, "\"" + src + "\": no such file or directory");
        (void)CTR_TRY(copy::place(kind, src, CTR_TRY(kind_in(client, dest, true)), dest.path));
        query += "&src=" + url_escape(src);
    }
    auto up = CTR_TRY(client.upgrade(archive_target(dest.container) + query));
    sys::UniqueFd conn(up.fd);
    auto out = [&](std::string_view d) {
        bytes += static_cast<int64_t>(d.size());
        return sys::send_all(conn.get(), d);
    };
    if (raw) {
        if (isatty(STDIN_FILENO)) return make_error(CTR_E_INVALID_ARGUMENT, "cp: refusing to read a tar from a terminal");
        char buf[65536];
        ssize_t n;
        while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0 && !out(std::string_view(buf, static_cast<size_t>(n)))) break;
    } else {
        copy::WriteOptions o;
        o.prefix = ".";
        o.follow = f.follow;
        CTR_TRY_STATUS(copy::write_tree(src, o, out));
    }
    ::shutdown(conn.get(), SHUT_WR);
    // The daemon's word on how it went: one line of json.
    std::string answer = up.leftover;
    char buf[4096];
    ssize_t n;
    while (answer.find('\n') == std::string::npos && ((n = ::read(conn.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) answer.append(buf, static_cast<size_t>(n));
    auto j = nlohmann::json::parse(answer.substr(0, answer.find('\n')), nullptr, false);
    if (!j.is_object()) return make_error(CTR_E_INTERNAL, "cp: the daemon ended the copy without an answer");
    if (j.contains("error"))
        return make_error(static_cast<ctr_status>(j["error"].value("code", int32_t{CTR_E_INTERNAL})), j["error"].value("message", "cp failed"));
    return ok();
}

}  // namespace

void add_cp_command(CLI::App& app, Globals& g) {
    auto* cp = app.add_subcommand("cp", "copy files between a container and this machine (CONTAINER:PATH, - for a tar)")->alias("copy");
    static std::string from, to;
    static Flags f;
    cp->add_option("source", from, "CONTAINER:PATH, a local path, or - (a tar on stdin)")->required();
    cp->add_option("destination", to, "CONTAINER:PATH, a local path, or - (a tar on stdout)")->required();
    cp->add_flag("-a,--archive", f.archive, "keep owners (uid and gid) from the source");
    cp->add_flag("-L,--follow-link", f.follow, "follow a symlink given as the source");
    cp->add_flag("-q,--quiet", f.quiet, "say nothing when done");
    on_run_heavy(cp, g, [&g] {
        Side a = parse_side(from), b = parse_side(to);
        if (a.container.empty() == b.container.empty())
            return error("cp: exactly one of source and destination must be CONTAINER:PATH");
        if (a.path.empty() || b.path.empty()) return error("cp: a path must not be empty");
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int64_t bytes = 0;
        Status st = a.container.empty() ? copy_in(*client, a.path, b, f, bytes) : copy_out(*client, a, b.path, f, bytes);
        if (!st) return fail(st.error());
        if (!f.quiet && to != "-") std::fprintf(stderr, "copied %lld bytes to %s\n", static_cast<long long>(bytes), to.c_str());
        return 0;
    });
}

}  // namespace ctr::cli
