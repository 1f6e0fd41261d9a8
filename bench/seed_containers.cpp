// seed-containers ROOT N: writes N container records into ROOT's state
// database, so that listing can be measured at a given store size before
// the runtime exists to make real ones.
#include "store/store.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: seed-containers ROOT N\n");
        return 2;
    }
    std::filesystem::path db = std::filesystem::path(argv[1]) / "var/lib/container/state.db";
    std::filesystem::create_directories(db.parent_path());
    auto store = ctr::store::Store::open(db);
    if (!store) {
        std::fprintf(stderr, "seed-containers: %s\n", store.error().message.c_str());
        return 1;
    }
    int n = std::atoi(argv[2]);
    auto st = (*store)->db().transaction([&]() -> ctr::Status {
        for (int i = 0; i < n; ++i) {
            ctr::store::ContainerRecord c;
            char id[65];
            std::snprintf(id, sizeof id, "%064x", i + 1);
            c.id = id;
            c.name = "bench-" + std::to_string(i);
            c.image = "localhost/bench:1";
            c.runtime = "runtime-linux";
            c.state = ctr::store::ContainerState::created;
            c.config = {{"args", {"true"}}};
            c.created_at = ctr::store::now_unix();
            CTR_TRY_STATUS((*store)->insert_container(c));
        }
        return ctr::ok();
    });
    if (!st) {
        std::fprintf(stderr, "seed-containers: %s\n", st.error().message.c_str());
        return 1;
    }
    return 0;
}
