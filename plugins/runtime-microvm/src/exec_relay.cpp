#include "exec_relay.hpp"

#include <ctr/sys/files.hpp>

#include "unix_socket.hpp"

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace microvm {

namespace {

// What an exec client may have waiting before it counts as gone.
constexpr size_t kMaxQueued = size_t{64} << 20;

}  // namespace

ctr::Result<std::unique_ptr<ExecRelay>> ExecRelay::start(const std::filesystem::path& dir, Channel& vm) {
    auto listener = CTR_TRY(listen_in(dir, "exec.sock"));
    std::unique_ptr<ExecRelay> relay(new ExecRelay(vm, std::move(listener)));
    auto wake = CTR_TRY(ctr::sys::make_pipe());
    relay->wake_read_ = std::move(wake.read);
    relay->wake_write_ = std::move(wake.write);
    relay->acceptor_ = std::thread([r = relay.get()] { r->accept_loop(); });
    return relay;
}

ExecRelay::~ExecRelay() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        for (auto& s : served_) close(*s.client);
    }
    wake_write_.reset();  // the acceptor sees EOF
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& s : served_) {
        s.reader.join();
        s.writer.join();
    }
}

void ExecRelay::accept_loop() {
    for (;;) {
        pollfd p[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) continue;
        if (p[1].revents) return;
        auto fd = accept_within(listener_.get(), 0);
        if (!fd) continue;
        auto client = std::make_shared<Client>();
        client->channel = Channel(std::move(*fd));
        std::lock_guard lock(mu_);
        if (stopping_) return;
        for (auto it = served_.begin(); it != served_.end();) {
            if (!it->done->load()) {
                ++it;
                continue;
            }
            it->reader.join();
            it->writer.join();
            it = served_.erase(it);
        }
        auto done = std::make_shared<std::atomic<bool>>(false);
        std::thread writer([this, client] { write_out(client); });
        std::thread reader([this, client, done] {
            serve(client);
            close(*client);  // the writer ends too
            done->store(true);
        });
        served_.push_back({client, std::move(reader), std::move(writer), done});
    }
}

void ExecRelay::serve(std::shared_ptr<Client> client) {
    for (;;) {
        auto f = client->channel.receive();
        if (!f) break;
        std::unique_lock lock(mu_);
        // A connection asks one thing: runs one process, or lists them.
        if (f->type == CTR_F_RUN || f->type == CTR_F_PROCESSES) {
            if (client->stream) continue;
            client->stream = next_stream_++;
            streams_[client->stream] = client;
        }
        uint32_t stream = client->stream;
        lock.unlock();
        if (stream == 0) continue;
        if (f->type != CTR_F_RUN && f->type != CTR_F_STDIN && f->type != CTR_F_STDIN_EOF && f->type != CTR_F_SIGNAL &&
            f->type != CTR_F_RESIZE && f->type != CTR_F_PROCESSES)
            continue;
        (void)vm_.send(f->type, stream, f->payload);
    }
    // The client left: a process it still had goes too.
    std::lock_guard lock(mu_);
    if (client->stream && streams_.count(client->stream)) (void)vm_.send(CTR_F_SIGNAL, client->stream, ints_payload(SIGKILL));
}

void ExecRelay::close(Client& c) {
    {
        std::lock_guard lock(c.mu);
        c.closed = true;
    }
    c.cv.notify_all();
    c.channel.shutdown();
}

void ExecRelay::write_out(std::shared_ptr<Client> client) {
    for (;;) {
        std::unique_lock lock(client->mu);
        client->cv.wait(lock, [&] { return client->closed || !client->out.empty(); });
        if (client->out.empty()) return;  // closed, all written
        Frame f = std::move(client->out.front());
        client->out.pop_front();
        client->queued -= f.payload.size();
        lock.unlock();
        if (!client->channel.send(f.type, 0, f.payload)) return;
    }
}

void ExecRelay::deliver(const Frame& f) {
    std::shared_ptr<Client> client;
    {
        std::lock_guard lock(mu_);
        auto it = streams_.find(f.stream);
        if (it == streams_.end()) return;
        client = it->second;
        if (f.type == CTR_F_EXIT || f.type == CTR_F_FAILED || f.type == CTR_F_PROCESS_LIST) streams_.erase(it);
    }
    std::unique_lock lock(client->mu);
    if (client->closed) return;
    if (client->queued + f.payload.size() > kMaxQueued) {
        lock.unlock();
        close(*client);  // it does not read: it goes, and its process with it
        (void)vm_.send(CTR_F_SIGNAL, f.stream, ints_payload(SIGKILL));
        return;
    }
    client->queued += f.payload.size();
    client->out.push_back(Frame{f.type, 0, f.payload});
    lock.unlock();
    client->cv.notify_one();
}

ctr::Result<ctr::sys::UniqueFd> connect_relay(const std::filesystem::path& dir) { return connect_in(dir, "exec.sock"); }

}  // namespace microvm
