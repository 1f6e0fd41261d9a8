// FileWatch: wakes whoever waits for a file of a given name to appear in a
// directory (a container's exit.json), through one inotify instance for the
// whole daemon.
//
// Why one: closing an inotify instance waits for an SRCU grace period in the
// kernel, 10-20 ms on these hosts. An instance per wait put that delay on
// every `wait` answer and log stream end. Watches come and go on the one
// instance; removing a watch does not wait.
#pragma once

#include <ctr/sdk/result.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ctr::apiserver {

class FileWatch {
public:
    explicit FileWatch(std::string name) : name_(std::move(name)) {}
    ~FileWatch();
    FileWatch(const FileWatch&) = delete;
    FileWatch& operator=(const FileWatch&) = delete;

    // One waiter's interest in a directory: `fd()` becomes readable once the
    // file appears there, or the directory goes away. Leaves on destruction.
    class Subscription {
    public:
        Subscription(FileWatch* w, std::string dir, sys::UniqueFd fd) : w_(w), dir_(std::move(dir)), fd_(std::move(fd)) {}
        Subscription(Subscription&&) = default;
        ~Subscription();
        int fd() const { return fd_.get(); }

    private:
        FileWatch* w_;
        std::string dir_;
        sys::UniqueFd fd_;
    };

    // Starts watching `dir` for this caller. The caller checks for the file
    // after this returns: what came before is not an event.
    Result<Subscription> subscribe(const std::filesystem::path& dir);

private:
    Status start_locked();  // the instance and its reader thread, on first use
    void leave(const std::string& dir, int fd);
    void read_events();

    struct Watched {
        int wd = -1;
        std::vector<int> waiters;  // eventfds
    };
    const std::string name_;
    std::mutex mu_;
    sys::UniqueFd inotify_, stop_;
    std::thread reader_;
    std::map<std::string, Watched> dirs_;
    std::map<int, std::string> by_wd_;
};

}  // namespace ctr::apiserver
