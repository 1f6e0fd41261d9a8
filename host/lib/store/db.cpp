#include "store/db.hpp"

#include <sqlite3.h>

#include <vector>

namespace ctr::store {

namespace {

// Each entry moves the schema one version forward. Entries are never edited
// once released: a change is a new entry.
const std::vector<const char*> kMigrations = {
    // 1: the four kinds of objects the daemon owns.
    R"(
    CREATE TABLE containers (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        image       TEXT NOT NULL,
        runtime     TEXT NOT NULL,
        state       TEXT NOT NULL,          -- creating, created, running, stopped, removing
        config      TEXT NOT NULL,          -- JSON: what the user asked for
        labels      TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL,
        started_at  INTEGER,
        finished_at INTEGER,
        exit_code   INTEGER,
        pid         INTEGER
    ) STRICT;
    CREATE TABLE images (
        reference   TEXT PRIMARY KEY,
        digest      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        config      TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE networks (
        name        TEXT PRIMARY KEY,
        subnet      TEXT NOT NULL,
        gateway     TEXT NOT NULL,
        internal    INTEGER NOT NULL,
        labels      TEXT NOT NULL DEFAULT '{}',
        options     TEXT NOT NULL DEFAULT '{}',
        state       TEXT NOT NULL,          -- creating, ready, removing
        created_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE volumes (
        name        TEXT PRIMARY KEY,
        driver      TEXT NOT NULL,
        mountpoint  TEXT NOT NULL,
        labels      TEXT NOT NULL DEFAULT '{}',
        options     TEXT NOT NULL DEFAULT '{}',
        anonymous   INTEGER NOT NULL DEFAULT 0,
        state       TEXT NOT NULL,          -- creating, ready, removing
        created_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE container_volumes (
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        volume       TEXT NOT NULL REFERENCES volumes(name),
        PRIMARY KEY (container_id, volume)
    ) STRICT;
    )",
};

}  // namespace

Stmt::~Stmt() {
    if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Stmt& Stmt::bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
}

Stmt& Stmt::bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
}

Result<bool> Stmt::step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    int32_t status = rc == SQLITE_CONSTRAINT ? CTR_E_ALREADY_EXISTS
                     : (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? CTR_E_UNAVAILABLE
                     : rc == SQLITE_FULL ? CTR_E_RESOURCE_EXHAUSTED
                                         : CTR_E_INTERNAL;
    return Error{status, std::string("state database: ") + sqlite3_errmsg(db_), 0};
}

Status Stmt::run() {
    for (;;) {
        auto more = CTR_TRY(step());
        if (!more) return ok();
    }
}

std::string Stmt::text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, col))) : "";
}

int64_t Stmt::integer(int col) const { return sqlite3_column_int64(s_, col); }
bool Stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Db>> Db::open(const std::filesystem::path& file) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    std::unique_ptr<Db> db(new Db(raw));
    if (rc != SQLITE_OK)
        return make_error(CTR_E_UNAVAILABLE, "open state database \"" + file.string() + "\": " +
                                                 (raw ? sqlite3_errmsg(raw) : "out of memory"));
    sqlite3_busy_timeout(raw, 5000);
    // WAL: readers never block the writer; synchronous=FULL: a committed
    // transaction survives a crash of the process or the machine.
    // A file that is not a database fails here, at its first read.
    if (auto st = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !st)
        return make_error(static_cast<ctr_status>(st.error().status),
                          "state database \"" + file.string() + "\" cannot be read: " + sqlite3_errmsg(raw));
    auto check = CTR_TRY(db->prepare("PRAGMA quick_check"));
    if (CTR_TRY(check.step()) && check.text(0) != "ok")
        return make_error(CTR_E_INTERNAL, "state database \"" + file.string() + "\" is corrupt: " + check.text(0));
    CTR_TRY_STATUS(db->migrate());
    return db;
}

Db::~Db() {
    if (db_) sqlite3_close_v2(db_);
}

Error Db::error(const std::string& what) const {
    return make_error(CTR_E_INTERNAL, "state database: " + what + ": " + sqlite3_errmsg(db_));
}

Result<Stmt> Db::prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
        return error("prepare");
    return Stmt(db_, s);
}

Status Db::exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
        std::string m = msg ? msg : "unknown error";
        sqlite3_free(msg);
        int code = sqlite3_errcode(db_);
        return make_error(code == SQLITE_BUSY ? CTR_E_UNAVAILABLE : CTR_E_INTERNAL, "state database: " + m);
    }
    return ok();
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

Status Db::transaction(const std::function<Status()>& body) {
    CTR_TRY_STATUS(exec("BEGIN IMMEDIATE"));
    Status st = body();
    if (!st) {
        (void)exec("ROLLBACK");
        return st;
    }
    if (auto c = exec("COMMIT"); !c) {
        (void)exec("ROLLBACK");
        return c;
    }
    return ok();
}

Status Db::migrate() {
    auto v = CTR_TRY(prepare("PRAGMA user_version"));
    version_ = CTR_TRY(v.step()) ? static_cast<int>(v.integer(0)) : 0;
    if (version_ > static_cast<int>(kMigrations.size()))
        return make_error(CTR_E_UNSUPPORTED, "state database schema " + std::to_string(version_) +
                                                 " is newer than this daemon's " + std::to_string(kMigrations.size()));
    for (size_t i = static_cast<size_t>(version_); i < kMigrations.size(); ++i) {
        CTR_TRY_STATUS(transaction([&]() -> Status {
            CTR_TRY_STATUS(exec(kMigrations[i]));
            return exec("PRAGMA user_version = " + std::to_string(i + 1));
        }));
        version_ = static_cast<int>(i + 1);
    }
    return ok();
}

}  // namespace ctr::store
