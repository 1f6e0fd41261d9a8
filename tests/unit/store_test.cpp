#include "store/store.hpp"

#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace ctr::store;

TEST_CASE("a new database is migrated to the latest schema, in WAL mode") {
    ctr::test::ScratchDir d;
    auto s = Store::open(d.path() / "state.db");
    REQUIRE(s.has_value());
    CHECK((*s)->db().schema_version() == 1);
    auto mode = (*s)->db().prepare("PRAGMA journal_mode");
    REQUIRE(mode.has_value());
    REQUIRE(*mode->step());
    CHECK(mode->text(0) == "wal");
    // Reopening applies nothing twice.
    s->reset();
    auto again = Store::open(d.path() / "state.db");
    REQUIRE(again.has_value());
    CHECK((*again)->db().schema_version() == 1);
}

TEST_CASE("a database from a newer daemon is refused, not reset") {
    ctr::test::ScratchDir d;
    {
        auto s = Store::open(d.path() / "state.db");
        REQUIRE(s.has_value());
        REQUIRE((*s)->db().exec("PRAGMA user_version = 99"));
    }
    auto s = Store::open(d.path() / "state.db");
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().message.find("schema 99 is newer") != std::string::npos);
}

TEST_CASE("a corrupt database file is refused with a message") {
    ctr::test::ScratchDir d;
    {
        std::ofstream f(d.path() / "state.db");
        f << std::string(4096, 'x');
    }
    auto s = Store::open(d.path() / "state.db");
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().message.find("state database") != std::string::npos);
}

TEST_CASE("transactions roll back on error") {
    ctr::test::ScratchDir d;
    auto s = Store::open(d.path() / "state.db");
    REQUIRE(s.has_value());
    VolumeRecord v;
    v.name = "a";
    v.mountpoint = "/x";
    v.state = "ready";
    auto st = (*s)->db().transaction([&]() -> ctr::Status {
        CTR_TRY_STATUS((*s)->insert_volume(v));
        return ctr::make_error(CTR_E_INTERNAL, "changed my mind");
    });
    CHECK_FALSE(st);
    CHECK((*s)->volumes()->empty());
    REQUIRE((*s)->insert_volume(v));
    auto dup = (*s)->insert_volume(v);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().status == CTR_E_ALREADY_EXISTS);
}

TEST_CASE("containers are found by id, name, or a unique id prefix") {
    ctr::test::ScratchDir d;
    auto s = Store::open(d.path() / "state.db");
    REQUIRE(s.has_value());
    for (auto [id, name] : {std::pair{"abc123", "one"}, {"abd456", "two"}}) {
        ContainerRecord c;
        c.id = id;
        c.name = name;
        c.image = "i";
        c.runtime = "r";
        c.state = ctr::store::ContainerState::created;
        c.exit_code = 3;
        REQUIRE((*s)->insert_container(c));
    }
    CHECK((*s)->container("abc123")->value().name == "one");
    CHECK((*s)->container("two")->value().id == "abd456");
    CHECK((*s)->container("abc")->value().id == "abc123");
    CHECK((*s)->container("abc")->value().exit_code == 3);
    CHECK((*s)->container("abc")->value().state == ctr::store::ContainerState::created);
    CHECK((*s)->container("abc")->value().pid == std::nullopt);
    auto ambiguous = (*s)->container("ab");
    REQUIRE_FALSE(ambiguous);
    CHECK(ambiguous.error().message.find("more than one") != std::string::npos);
    CHECK_FALSE((*s)->container("zz")->has_value());
    ContainerRecord clash;
    clash.id = "other";
    clash.name = "one";
    clash.image = clash.runtime = "x";
    auto st = (*s)->insert_container(clash);
    REQUIRE_FALSE(st);
    CHECK(st.error().message == "the container name \"one\" is already in use");
}

TEST_CASE("container configs: a typed view; an older version's config is migrated when the store opens") {
    using ctr::store::ContainerConfig;
    ctr::test::ScratchDir d;
    {
        auto s = Store::open(d.path() / "state.db");
        REQUIRE(s.has_value());
        ContainerRecord c;
        c.id = "old1";
        c.name = "old";
        c.image = c.runtime = "x";
        c.state = ctr::store::ContainerState::stopped;
        REQUIRE((*s)->insert_container(c));
        // As phase one wrote it: no schema, no network_attachments.
        REQUIRE((*s)->db().exec(R"(UPDATE containers SET config = '{"rm":true,"tty":"yes","stop_timeout":7}' WHERE id = 'old1')"));
    }
    auto s = Store::open(d.path() / "state.db");
    REQUIRE(s.has_value());
    auto raw = (*s)->db().prepare("SELECT config FROM containers WHERE id = 'old1'");
    REQUIRE(raw.has_value());
    REQUIRE(*raw->step());
    auto stored = nlohmann::json::parse(raw->text(0));
    CHECK(stored["schema"] == ContainerConfig::kSchema);
    CHECK(stored["network_attachments"] == nlohmann::json::array());
    CHECK(stored["restart"] == "no");
    auto c = (*s)->container("old1");
    REQUIRE(c.has_value());
    auto settings = (*c)->settings();
    CHECK(settings.remove);
    CHECK_FALSE(settings.tty);  // a wrong type reads as the default
    CHECK(settings.stop_timeout == 7);
    CHECK(settings.healthcheck.is_null());
    CHECK(ctr::store::migrate_config(stored) == stored);  // idempotent
}
