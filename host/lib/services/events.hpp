// The engine's events: what happened to containers, images, networks and
// volumes, in order, for `container events` and the Docker API's /events.
// The last kEventsKept are kept in memory (a --since reaches back that far;
// events are not written to disk: a restarted daemon starts a new history).
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace ctr::services {

struct Event {
    uint64_t seq = 0;            // 1, 2, ... in the order they happened
    std::string type;            // container | image | network | volume
    std::string action;          // create, start, die, stop, kill, destroy, rename, exec_start, exec_die, pull, tag, ...
    std::string id;              // the object's id (a container's), or its name
    nlohmann::json attributes;   // name, image, exitCode, signal, labels, ...: strings
    int64_t time_ns = 0;         // unix nanoseconds

    nlohmann::json to_json() const;  // {"type","action","id","attributes","time","time_nano"}
};

inline constexpr size_t kEventsKept = 4096;

class Events {
public:
    void publish(std::string type, std::string action, std::string id, nlohmann::json attributes = nlohmann::json::object());
    // The kept events after `after_seq`; when there are none, waits up to
    // `timeout_ms` for the next.
    std::vector<Event> after(uint64_t after_seq, int timeout_ms);
    // Wakes every waiter (shutdown).
    void wake_all();

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Event> kept_;
    uint64_t last_seq_ = 0;
};

}  // namespace ctr::services
