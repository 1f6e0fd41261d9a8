#include "content_store.hpp"

#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <atomic>
#include <thread>

using namespace image_oci;

TEST_CASE("put verifies; ingest resumes; a mismatch stores nothing") {
    ctr::test::ScratchDir d;
    ContentStore store(d.path());
    REQUIRE(store.init());
    std::string data = "hello content";
    std::string digest = sha256_of(data);
    CHECK_FALSE(store.put(digest, "tampered"));
    CHECK_FALSE(store.has(digest));
    REQUIRE(store.put(digest, data));
    CHECK(store.has(digest));
    CHECK(*store.read(digest, 100) == data);
    CHECK_FALSE(store.read(digest, 3));  // larger than allowed

    // An interrupted ingest: half written, then resumed by a new writer.
    std::string big(100000, 'z');
    std::string big_digest = sha256_of(big);
    {
        auto in = store.begin(big_digest);
        REQUIRE(in.has_value());
        REQUIRE(*in);
        REQUIRE((*in)->append(big.data(), 40000));
    }
    auto resumed = store.begin(big_digest);
    REQUIRE(resumed.has_value());
    CHECK((*resumed)->offset() == 40000);
    REQUIRE((*resumed)->append(big.data() + 40000, big.size() - 40000));
    REQUIRE((*resumed)->commit(static_cast<int64_t>(big.size())));
    CHECK(store.has(big_digest));

    // Wrong bytes: commit refuses and the blob never appears.
    std::string other = "other";
    auto bad = store.begin(sha256_of(other));
    REQUIRE((*bad)->append("otheR", 5));
    auto st = (*bad)->commit(5);
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("digest mismatch") == 0);
    CHECK_FALSE(store.has(sha256_of(other)));
    CHECK_FALSE(store.begin("sha256:../../x"));
}

TEST_CASE("two writers of one blob take turns; the second finds it done") {
    ctr::test::ScratchDir d;
    ContentStore store(d.path());
    REQUIRE(store.init());
    std::string data(50000, 'q');
    std::string digest = sha256_of(data);
    auto first = store.begin(digest);
    REQUIRE(*first);
    std::atomic<bool> returned{false};
    std::thread second([&] {
        auto in = store.begin(digest);  // blocks until the first commits
        returned = true;
        REQUIRE(in.has_value());
        CHECK(*in == nullptr);          // nothing left to write
    });
    // Still waiting after a while: it blocked, and did not write beside the first.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(returned.load());
    REQUIRE((*first)->append(data.data(), data.size()));
    REQUIRE((*first)->commit(static_cast<int64_t>(data.size())));
    first->reset();
    second.join();
    CHECK(store.has(digest));
}

TEST_CASE("a writer that comes just after the commit finds the blob there and leaves no ingest file behind") {
    ctr::test::ScratchDir d;
    ContentStore store(d.path());
    REQUIRE(store.init());
    std::string data = "committed a moment ago";
    std::string digest = sha256_of(data);
    REQUIRE(store.put(digest, data));
    // As a concurrent pull that checked has() before that commit and opens
    // its ingest file after it: its open makes a new, empty file.
    auto late = store.begin(digest);
    REQUIRE(late.has_value());
    CHECK(*late == nullptr);
    CHECK(std::filesystem::is_empty(d.path() / "ingest"));
}
