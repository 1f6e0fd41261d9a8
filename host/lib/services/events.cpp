#include "services/events.hpp"

#include <chrono>

namespace ctr::services {

using nlohmann::json;

json Event::to_json() const {
    return {{"type", type}, {"action", action}, {"id", id}, {"attributes", attributes}, {"time", time_ns / 1000000000}, {"time_nano", time_ns}};
}

void Events::publish(std::string type, std::string action, std::string id, json attributes) {
    Event e;
    e.type = std::move(type);
    e.action = std::move(action);
    e.id = std::move(id);
    // Attributes are strings, as Docker's are (labels included).
    e.attributes = json::object();
    if (attributes.is_object())
        for (const auto& [k, v] : attributes.items()) e.attributes[k] = v.is_string() ? v.get<std::string>() : v.dump();
    e.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    {
        std::lock_guard<std::mutex> lock(mu_);
        e.seq = ++last_seq_;
        kept_.push_back(std::move(e));
        if (kept_.size() > kEventsKept) kept_.pop_front();
    }
    cv_.notify_all();
}

std::vector<Event> Events::after(uint64_t after_seq, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    if (last_seq_ <= after_seq) cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return last_seq_ > after_seq; });
    std::vector<Event> out;
    for (const auto& e : kept_)
        if (e.seq > after_seq) out.push_back(e);
    return out;
}

void Events::wake_all() { cv_.notify_all(); }

}  // namespace ctr::services
