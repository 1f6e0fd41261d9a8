// GET /containers/{id}/logs in Docker's framing: each piece of output behind
// an 8-byte header (its stream, 1 stdout or 2 stderr, and its length,
// big-endian), what the docker CLI and the SDKs demultiplex; a container
// with a terminal has one stream, sent as it is.
#include "apiserver/container_routes.hpp"
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/docker/docker_streams.hpp"

#include <ctr/sys/io.hpp>
#include <ctr/sys/log_bound.h>
#include <ctr/sys/log_index.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

namespace ctr::apiserver::docker {

using nlohmann::json;
namespace fs = std::filesystem;

std::string framed(char stream, const std::string& data) {
    std::string out(8, '\0');
    out[0] = stream;
    const uint32_t n = static_cast<uint32_t>(data.size());
    out[4] = static_cast<char>(n >> 24);
    out[5] = static_cast<char>(n >> 16);
    out[6] = static_cast<char>(n >> 8);
    out[7] = static_cast<char>(n);
    return out + data;
}

std::string read_more(Source& s) {
    // Past what the log's bound freed (a reader it overtook, too).
    s.offset = std::max<std::streamoff>(s.offset, s.held ? ctr_log_start(s.held->get()) : sys::log_start(s.file));
    if (s.held) {
        std::string out;
        char buf[65536];
        for (;;) {
            ssize_t n = ::pread(s.held->get(), buf, sizeof buf, s.offset);
            if (n <= 0) break;
            out.append(buf, static_cast<size_t>(n));
            s.offset += n;
        }
        return out;
    }
    std::ifstream in(s.file, std::ios::binary);
    if (!in) return "";
    in.seekg(s.offset);
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    s.offset += static_cast<std::streamoff>(chunk.size());
    return chunk;
}

void hold_from_end(std::vector<Source>& sources) {
    for (auto& s : sources) {
        s.held = std::make_shared<sys::UniqueFd>(::open(s.file.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600));
        if (!s.held->valid()) s.held.reset();
        struct stat st {};
        s.offset = s.held && ::fstat(s.held->get(), &st) == 0 ? st.st_size : 0;
    }
}

void follow_output(Containers& cs, Daemon& d, const std::string& id, int fd, std::vector<Source>& sources, bool tty,
                   const std::atomic<bool>* stop) {
    auto drain = [&] {
        for (auto& s : sources)
            if (std::string chunk = read_more(s); !chunk.empty() && !sys::send_all(fd, tty ? chunk : framed(s.stream, chunk))) return false;
        return true;
    };
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    auto first = cs.get(id);
    const int64_t started_before = first ? first->started_at.value_or(-1) : -1;  // a run before this attach
    bool ran = false;
    while (!d.stopping && !(stop && *stop)) {
        if (!drain()) break;
        const uint64_t seen = cs.change_count();
        auto now = cs.get(id);
        if (!now) {  // removed (--rm): what it wrote is still in the held files
            drain();
            break;
        }
        if (now->state == store::ContainerState::running) ran = true;
        const bool ended = now->state == store::ContainerState::stopped && (ran || now->started_at.value_or(-1) != started_before);
        if (ended || (!ran && std::chrono::steady_clock::now() > give_up)) {
            drain();
            break;
        }
        if (ran) cs.wait_for_shim(id, 50, true);
        else cs.wait_for_change(seen, 20);  // a start wakes us at once
    }
}

namespace {

// since / until: seconds since the epoch, as the docker CLI sends them
// ("1700000000.000000000"); absent or 0: none.
Result<int64_t> epoch_ns(const Request& req, const char* key) {
    auto it = req.query.find(key);
    if (it == req.query.end() || it->second.empty()) return int64_t{0};
    return epoch_ns_of(it->second, key);
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One stream of a logs request: where it ends (until), its timestamps.
struct Cut {
    int64_t end = -1;  // -1: not cut (yet)
    std::shared_ptr<sys::LineStamper> stamps;
};

}  // namespace

void add_log_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("GET", "/containers/{id}/logs", [&cs, &d](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return make_error(CTR_E_NOT_FOUND, "No such container: " + req.param("id"));
        int64_t tail = -1;
        // A negative tail is all of it, as Docker reads it (testcontainers sends -1).
        if (auto it = req.query.find("tail"); it != req.query.end() && it->second != "all" && it->second.rfind("-", 0) != 0) {
            if (it->second.empty() || it->second.find_first_not_of("0123456789") != std::string::npos || it->second.size() > 9)
                return make_error(CTR_E_INVALID_ARGUMENT, "tail \"" + it->second + "\": want a number of lines or all");
            tail = std::stoll(it->second);
        }
        const int64_t since_ns = CTR_TRY(epoch_ns(req, "since")), until_ns = CTR_TRY(epoch_ns(req, "until"));
        std::vector<Source> sources;
        if (req.flag("stdout")) sources.push_back({cs.dir_of(c->id) / "stdout.log", 1});
        if (req.flag("stderr")) sources.push_back({cs.dir_of(c->id) / "stderr.log", 2});
        if (sources.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "you must choose at least one stream (stdout or stderr)");
        // Output from before marks were kept shows the container's start time.
        const int64_t fallback_ns = c->started_at.value_or(c->created_at) * int64_t{1000000000};
        std::vector<Cut> cuts(sources.size());
        for (size_t i = 0; i < sources.size(); ++i) {
            auto& s = sources[i];
            s.offset = tail < 0 ? 0 : tail_offset(s.file, tail);
            if (since_ns > 0) {
                int64_t from = sys::LogIndex::read(s.file).first_offset_since(since_ns);
                std::error_code ec;
                if (from < 0) from = static_cast<int64_t>(fs::file_size(s.file, ec));  // nothing since: only what comes
                s.offset = std::max<std::streamoff>(s.offset, from);
            }
            if (req.flag("timestamps")) cuts[i].stamps = std::make_shared<sys::LineStamper>(s.file, fallback_ns);
        }
        const bool tty = c->settings().tty, follow = req.flag("follow");
        const std::string id = c->id;
        Reply reply;
        reply.content_type = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
        reply.stream = [&cs, &d, sources, cuts, tty, follow, id, until_ns](const Writer& write) mutable {
            // Once `until` has passed, each stream ends at its first byte written after it.
            auto cut_at_until = [&] {
                if (until_ns <= 0 || now_ns() <= until_ns) return false;
                for (size_t i = 0; i < sources.size(); ++i)
                    if (cuts[i].end < 0) {
                        cuts[i].end = sys::LogIndex::read(sources[i].file).first_offset_since(until_ns + 1);
                        std::error_code ec;
                        if (cuts[i].end < 0) cuts[i].end = static_cast<int64_t>(fs::file_size(sources[i].file, ec));
                    }
                return true;
            };
            auto drain = [&] {
                for (size_t i = 0; i < sources.size(); ++i) {
                    const std::streamoff at = sources[i].offset;
                    std::string chunk = read_more(sources[i]);
                    if (cuts[i].end >= 0) chunk.resize(static_cast<size_t>(std::clamp<int64_t>(cuts[i].end - at, 0, static_cast<int64_t>(chunk.size()))));
                    if (chunk.empty()) continue;
                    if (cuts[i].stamps) chunk = cuts[i].stamps->stamp(chunk, at);
                    if (!write(tty ? chunk : framed(sources[i].stream, chunk))) return false;
                }
                return true;
            };
            for (;;) {
                const bool ended = cut_at_until();
                if (!drain() || !follow || ended || d.stopping) return;
                auto now = cs.get(id);
                if (!now || now->state != store::ContainerState::running) {
                    drain();  // what was written before the exit
                    return;
                }
                cs.wait_for_shim(id, 50, true);  // new output shows within 50 ms; the end at once
            }
        };
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
