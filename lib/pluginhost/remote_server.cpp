#include <ctr/pluginhost/remote_server.hpp>

#include <ctr/pluginhost/remote_ops.hpp>
#include <ctr/pluginhost/wire.hpp>
#include <ctr/sys/fd_passing.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <thread>

namespace ctr::pluginhost {

namespace {

using wire::Clock;

struct CallContext {
    int fd;
    // Progress is [any-thread]: a pull reports from each download at once,
    // and a frame must go out whole.
    std::mutex write_mu;
    std::string result;  // the sink is the plugin's one caller at a time
    bool sink_full = false;
    bool cancelled = false;
};

int32_t sink_write(void* ctx, const char* data, size_t len) {
    auto* c = static_cast<CallContext*>(ctx);
    if (c->result.size() + len > (64u << 20)) {
        c->sink_full = true;
        return 1;
    }
    c->result.append(data, len);
    return 0;
}

void progress_event(void* ctx, const char* json, size_t len) {
    auto* c = static_cast<CallContext*>(ctx);
    std::lock_guard<std::mutex> lock(c->write_mu);
    (void)wire::write_frame(c->fd, wire::kProgress, std::string_view(json ? json : "", json ? len : 0));
}

// A cancel frame, or the daemon gone, means the caller wants it stopped.
int32_t progress_cancelled(void* ctx) {
    auto* c = static_cast<CallContext*>(ctx);
    std::lock_guard<std::mutex> lock(c->write_mu);
    if (c->cancelled) return 1;
    pollfd pfd{c->fd, POLLIN, 0};
    if (::poll(&pfd, 1, 0) > 0) {
        char byte = 0;
        ssize_t r = ::recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r <= 0 || byte == wire::kCancel) c->cancelled = true;
    }
    return c->cancelled ? 1 : 0;
}

std::string result_frame(int32_t status, int32_t detail, const std::string& message, const std::string& result) {
    return wire::result_payload(status, detail, message, result);
}

// One call: the frame names the slot; the plugin's answer goes back as is.
std::string answer(const LoadedPlugin& plugin, const void* table, const std::string& payload, int fd) {
    auto nl = payload.find('\n');
    if (nl == std::string::npos) return result_frame(CTR_E_INVALID_ARGUMENT, 0, "malformed call frame", "");
    std::string op = payload.substr(0, nl);
    const OpSlot* slot = find_op_slot(plugin.kind(), op);
    void* fn = slot ? read_slot(table, *slot) : nullptr;
    if (!fn) return result_frame(CTR_E_UNIMPLEMENTED, 0, op + " is not provided by this plugin", "");

    CallContext ctx;
    ctx.fd = fd;
    ctr_sink sink{sizeof(ctr_sink), 0, &ctx, &sink_write};
    char msg[1024] = {};
    ctr_error err{sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    const char* req = payload.data() + nl + 1;
    size_t req_len = payload.size() - nl - 1;
    int32_t rc;
    if (slot->progress) {
        ctr_progress progress{sizeof(ctr_progress), 0, &ctx, &progress_event, &progress_cancelled};
        rc = reinterpret_cast<ctr_progress_op>(fn)(plugin.instance(), req, req_len, &progress, &sink, &err);
    } else {
        rc = reinterpret_cast<ctr_op>(fn)(plugin.instance(), req, req_len, &sink, &err);
    }
    if (rc == CTR_OK) return result_frame(CTR_OK, 0, "", ctx.result);
    msg[sizeof msg - 1] = '\0';
    return result_frame(rc, err.detail_code, msg, "");
}

void serve_connection(const LoadedPlugin& plugin, const void* table, sys::UniqueFd conn) {
    const auto forever = Clock::time_point::max();
    for (;;) {
        wire::Frame f;
        if (wire::read_frame(conn.get(), forever, &f) != wire::ReadStatus::ok) return;
        if (f.type == wire::kCancel) continue;  // a cancel that came after its call ended
        if (f.type != wire::kCall) return;
        if (!wire::write_frame(conn.get(), wire::kResult, answer(plugin, table, f.payload, conn.get()))) return;
    }
}

}  // namespace

int serve_plugin(const Manifest& manifest, const HostOffer& offer, int control_fd) {
    auto loaded = LoadedPlugin::load(manifest, offer);
    if (!loaded) {
        nlohmann::json no{{"status", loaded.error().status}, {"message", loaded.error().message}};
        (void)wire::write_frame(control_fd, wire::kHello, no.dump());
        return 1;
    }
    const LoadedPlugin& plugin = **loaded;
    const void* table = plugin.kind() == CTR_KIND_NETWORK ? static_cast<const void*>(plugin.network())
                                                           : static_cast<const void*>(plugin.image());
    nlohmann::json slots = nlohmann::json::array();
    for (const auto& s : kOpSlots)
        if (s.kind == plugin.kind() && table && read_slot(table, s)) slots.push_back(s.name);
    nlohmann::json hello{{"status", CTR_OK},
                         {"name", plugin.name()},
                         {"version", plugin.plugin_version()},
                         {"abi_minor", plugin.abi_minor()},
                         {"slots", slots}};
    if (!table) hello = {{"status", CTR_E_INVALID_ARGUMENT}, {"message", "only network and image plugins run in a plugin host"}};
    if (!wire::write_frame(control_fd, wire::kHello, hello.dump()) || !table) return 1;

    // Each connection is the daemon's for one call at a time; the threads
    // are detached because the process ends when the daemon lets go.
    for (;;) {
        sys::UniqueFd conn = sys::recv_fd(control_fd);
        if (!conn.valid()) break;
        std::thread(serve_connection, std::cref(plugin), table, std::move(conn)).detach();
    }
    spdlog::debug("plugin {}: the daemon closed its control socket; ending", manifest.name);
    return 0;
}

}  // namespace ctr::pluginhost
