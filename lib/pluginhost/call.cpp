#include <ctr/pluginhost/call.hpp>

#include <spdlog/spdlog.h>

namespace ctr::pluginhost {

namespace {

struct SinkState {
    std::string data;
    size_t limit = 64u << 20;  // a result larger than this is a misbehaving plugin
};

int32_t sink_write(void* ctx, const char* data, size_t len) {
    auto* s = static_cast<SinkState*>(ctx);
    try {
        if (s->data.size() + len > s->limit) return 1;
        s->data.append(data, len);
        return 0;
    } catch (...) {
        return 1;
    }
}

// The plugin's error as the host passes it on: its status, its message and
// its detail code (a plugin's own, >= CTR_DETAIL_PLUGIN_BASE, or 0).
Error call_error(int32_t rc, const ctr_error& err, const char* op_name) {
    const char* msg = err.message;
    std::string text = msg && msg[0] ? msg : std::string(op_name) + " failed (" + status_name(rc) + ") and the plugin gave no message";
    return Error{rc, text, err.detail_code};
}

struct ProgressState {
    const ProgressFn* on_progress;
    const CancelledFn* cancelled;
};

void progress_event(void* ctx, const char* json_text, size_t len) {
    auto* s = static_cast<ProgressState*>(ctx);
    try {
        if (!*s->on_progress) return;
        auto j = nlohmann::json::parse(json_text, json_text + len, nullptr, false);
        if (!j.is_discarded()) (*s->on_progress)(j);
    } catch (const std::exception& e) {
        spdlog::warn("progress callback failed: {}", e.what());
    } catch (...) {
    }
}

int32_t progress_cancelled(void* ctx) {
    auto* s = static_cast<ProgressState*>(ctx);
    try {
        return (*s->cancelled && (*s->cancelled)()) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

Result<nlohmann::json> parse_result(const std::string& text, const char* op_name) {
    if (text.empty()) return nlohmann::json();
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
        return make_error(CTR_E_INTERNAL, std::string(op_name) + ": plugin returned a result that is not json");
    return j;
}

}  // namespace

Result<std::string> invoke_raw(ctr_op op, ctr_plugin* instance, std::string_view request, const char* op_name) {
    if (!op) return make_error(CTR_E_UNIMPLEMENTED, std::string(op_name) + " is not provided by this plugin");
    SinkState state;
    ctr_sink sink{sizeof(ctr_sink), 0, &state, &sink_write};
    char msg[1024] = {};
    ctr_error err{sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    int32_t rc = op(instance, request.data(), request.size(), &sink, &err);
    if (rc != CTR_OK) return call_error(rc, err, op_name);
    return std::move(state.data);
}

Result<nlohmann::json> invoke(ctr_op op, ctr_plugin* instance, const nlohmann::json& request, const char* op_name) {
    std::string text = CTR_TRY(invoke_raw(op, instance, request.dump(), op_name));
    return parse_result(text, op_name);
}

Result<nlohmann::json> invoke_pull(const ctr_image_v1& image, ctr_plugin* instance, const nlohmann::json& request,
                                   const ProgressFn& on_progress, const CancelledFn& cancelled) {
    return invoke_with_progress(image.pull, "pull", instance, request, on_progress, cancelled);
}

Result<nlohmann::json> invoke_with_progress(ctr_progress_op op, const char* op_name, ctr_plugin* instance,
                                            const nlohmann::json& request, const ProgressFn& on_progress,
                                            const CancelledFn& cancelled) {
    if (!op) return make_error(CTR_E_UNIMPLEMENTED, std::string(op_name) + " is not provided by this plugin");
    SinkState state;
    ctr_sink sink{sizeof(ctr_sink), 0, &state, &sink_write};
    ProgressState ps{&on_progress, &cancelled};
    ctr_progress progress{sizeof(ctr_progress), 0, &ps, &progress_event, &progress_cancelled};
    char msg[1024] = {};
    ctr_error err{sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    std::string req = request.dump();
    int32_t rc = op(instance, req.data(), req.size(), &progress, &sink, &err);
    if (rc != CTR_OK) return call_error(rc, err, op_name);
    return parse_result(state.data, op_name);
}

}  // namespace ctr::pluginhost
