// `exec`, shared by `container exec` and `container compose exec`.
#include "cli/exec.hpp"

#include "cli/app.hpp"
#include "cli/attach.hpp"
#include "cli/output.hpp"

#include <cstdio>

namespace ctr::cli {

int exec_in(const api::Client& client, const std::string& container, const ExecOptions& o) {
    nlohmann::json body = {{"cmd", o.cmd}};
    if (!o.env.empty()) body["env"] = o.env;
    if (!o.workdir.empty()) body["workdir"] = o.workdir;
    if (!o.user.empty()) body["user"] = o.user;
    if (o.detach) {
        if (o.interactive || o.tty) return error("exec -d cannot go with -i or -t");
        body["detach"] = true;
        auto made = client.call("POST", "/v1/containers/" + container + "/exec", body);
        if (!made) return fail(made.error());
        return 0;
    }
    if (o.interactive || o.tty) {
        auto keys = parse_detach_keys(o.detach_keys);
        if (!keys) return fail(keys.error());
        body["interactive"] = o.interactive;
        body["tty"] = o.tty;
        auto made = client.call("POST", "/v1/containers/" + container + "/exec", body);
        if (!made) return fail(made.error());
        std::string eid = (*made)["exec_id"];
        auto end = attach_session(client, eid, o.interactive, o.tty, "/v1/exec/" + eid + "/attach", *keys);
        if (!end) return fail(end.error());
        if (*end == SessionEnd::detached) {
            std::fprintf(stderr, "container: detached from the exec in %s; it keeps running\n", container.c_str());
            return 0;
        }
        auto waited = client.call("POST", "/v1/exec/" + eid + "/wait");
        if (!waited) return fail(waited.error());
        return (*waited)["exit_code"].get<int>();
    }
    // Frames: 8-byte header [stream, 0, 0, 0, size] then data (docs/api.md).
    std::string pending;
    int code = kExitEngine;
    auto st = client.stream_post("/v1/containers/" + container + "/exec", body, [&](std::string_view data) {
        pending.append(data);
        while (pending.size() >= 8) {
            auto size = (static_cast<uint32_t>(static_cast<unsigned char>(pending[4])) << 24) |
                        (static_cast<uint32_t>(static_cast<unsigned char>(pending[5])) << 16) |
                        (static_cast<uint32_t>(static_cast<unsigned char>(pending[6])) << 8) |
                        static_cast<uint32_t>(static_cast<unsigned char>(pending[7]));
            if (pending.size() < 8 + size) break;
            std::string payload = pending.substr(8, size);
            int stream = pending[0];
            pending.erase(0, 8 + size);
            if (stream == 1 || stream == 2) {
                std::FILE* out = stream == 1 ? stdout : stderr;
                std::fwrite(payload.data(), 1, payload.size(), out);
                std::fflush(out);
            } else if (stream == 3) {
                auto j = nlohmann::json::parse(payload, nullptr, false);
                if (j.contains("exit_code")) code = j["exit_code"];
                else if (j.contains("error")) code = error(j["error"].value("message", "exec failed"));
            }
        }
        return true;
    });
    if (!st) return fail(st.error());
    return code;
}

}  // namespace ctr::cli
