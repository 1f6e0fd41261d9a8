// A thin RAII layer over SQLite: a connection, prepared statements, and
// transactions that roll back unless committed. Errors are values.
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace ctr::store {

class Stmt {
public:
    Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
    ~Stmt();
    Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, const std::string& v);
    Stmt& bind(int i, int64_t v);
    Stmt& bind_null(int i);
    Stmt& bind(int i, const std::optional<std::string>& v) { return v ? bind(i, *v) : bind_null(i); }
    Stmt& bind(int i, const std::optional<int64_t>& v) { return v ? bind(i, *v) : bind_null(i); }

    // Steps once: true while a row is available, false when done.
    Result<bool> step();
    // Steps to the end; for statements without rows.
    Status run();

    std::string text(int col) const;
    int64_t integer(int col) const;
    bool is_null(int col) const;

private:
    sqlite3* db_;
    sqlite3_stmt* s_;
};

class Db {
public:
    // Opens (creating) the database in WAL mode with foreign keys on and a
    // busy timeout, then applies pending migrations.
    static Result<std::unique_ptr<Db>> open(const std::filesystem::path& file);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    Result<Stmt> prepare(const std::string& sql);
    Status exec(const std::string& sql);
    int64_t changes() const;

    // Runs `body` in one IMMEDIATE transaction: committed when it returns
    // ok, rolled back when it returns an error.
    Status transaction(const std::function<Status()>& body);

    int schema_version() const { return version_; }

private:
    explicit Db(sqlite3* db) : db_(db) {}
    Status migrate();
    Error error(const std::string& what) const;

    sqlite3* db_;
    int version_ = 0;
};

}  // namespace ctr::store
