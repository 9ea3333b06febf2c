// The engines mqttwire_store_bench compares behind one interface: the durable store's log
// (durable_store) and SQLite in WAL mode with synchronous OFF, NORMAL or FULL.
#include "store_bench.hpp"

#include <sqlite3.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace mqttwire::broker::bench {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "mqttwire_store_bench: %s\n", what.c_str());
    std::exit(2);
}

log_engine::log_engine(const std::string& dir, bool sync, bool auto_compact) {
    mb::durable_options opt;
    opt.sync = sync;
    opt.auto_compact = auto_compact;
    auto r = mb::durable_store::open(dir + "/bench.store", opt, [&](const mb::durable_record& rec) {
        loaded_bytes += rec.key.size() + rec.value.size();
    });
    if (!r) {
        die(r.status().message());
    }
    store.emplace(std::move(r.value().store));
    recovery = std::move(r.value().recovery);
}

void log_engine::put(std::uint8_t kind, bytes key, bytes value) {
    if (auto s = store->put(kind, key, value); !s) {
        die(s.message());
    }
}

void log_engine::erase(std::uint8_t kind, bytes key) {
    if (auto s = store->erase(kind, key); !s) {
        die(s.message());
    }
}

void log_engine::commit() {
    if (auto s = store->commit(); !s) {
        die(s.message());
    }
}

void log_engine::compact() {
    if (auto s = store->compact(); !s) {
        die(s.message());
    }
}

std::uint64_t log_engine::file_bytes() { return store->stats().file_bytes; }

std::string log_engine::describe() {
    const auto st = store->stats();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "compactions %" PRIu64
                  ", longest step %.2f ms, last switch %.2f ms, index %.1f MiB",
                  st.compactions, static_cast<double>(st.longest_compaction_step.count()) / 1e6,
                  static_cast<double>(st.last_compaction_switch.count()) / 1e6,
                  static_cast<double>(st.index_bytes) / 1048576.0);
    return buf;
}

void sqlite_engine::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        die(std::string(sql) + ": " + (err != nullptr ? err : "?"));
    }
}

sqlite_engine::sqlite_engine(const std::string& dir, const char* synchronous, bool load)
    : path(dir + "/bench.sqlite") {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        die("sqlite3_open_v2 " + path);
    }
    exec("PRAGMA journal_mode=WAL");
    exec((std::string("PRAGMA synchronous=") + synchronous).c_str());
    exec("CREATE TABLE IF NOT EXISTS records(kind INTEGER NOT NULL, key BLOB NOT NULL, "
         "value BLOB NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID");
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO records VALUES(?1, ?2, ?3)", -1, &put_stmt,
                           nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM records WHERE kind = ?1 AND key = ?2", -1, &erase_stmt,
                           nullptr) != SQLITE_OK) {
        die(std::string("prepare: ") + sqlite3_errmsg(db));
    }
    if (load) {
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(db, "SELECT kind, key, value FROM records", -1, &q, nullptr);
        while (sqlite3_step(q) == SQLITE_ROW) {
            ++loaded_records;
            loaded_bytes += static_cast<std::uint64_t>(sqlite3_column_bytes(q, 1)) +
                            static_cast<std::uint64_t>(sqlite3_column_bytes(q, 2));
        }
        sqlite3_finalize(q);
    }
}

sqlite_engine::~sqlite_engine() {
    sqlite3_finalize(put_stmt);
    sqlite3_finalize(erase_stmt);
    sqlite3_close(db);
}

void sqlite_engine::begin() {
    if (!in_transaction) {
        exec("BEGIN");
        in_transaction = true;
    }
}

void sqlite_engine::step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) {
        die(std::string("step: ") + sqlite3_errmsg(db));
    }
    sqlite3_reset(s);
}

void sqlite_engine::put(std::uint8_t kind, bytes key, bytes value) {
    begin();
    sqlite3_bind_int(put_stmt, 1, kind);
    sqlite3_bind_blob(put_stmt, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(put_stmt, 3, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    step(put_stmt);
}

void sqlite_engine::erase(std::uint8_t kind, bytes key) {
    begin();
    sqlite3_bind_int(erase_stmt, 1, kind);
    sqlite3_bind_blob(erase_stmt, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    step(erase_stmt);
}

void sqlite_engine::commit() {
    if (in_transaction) {
        exec("COMMIT");
        in_transaction = false;
    }
}

void sqlite_engine::compact() {
    commit();
    exec("VACUUM");
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::uint64_t sqlite_engine::file_bytes() {
    return file_size_or_zero(path) + file_size_or_zero(path + "-wal");
}

std::string sqlite_engine::describe() { return "WAL, default page cache"; }

std::unique_ptr<engine> make_engine(const options& o, bool load, bool auto_compact) {
    if (o.engine == "log") {
        return std::make_unique<log_engine>(o.dir, o.sync, auto_compact);
    }
    if (o.engine == "sqlite-off") {
        return std::make_unique<sqlite_engine>(o.dir, "OFF", load);
    }
    if (o.engine == "sqlite-normal") {
        return std::make_unique<sqlite_engine>(o.dir, o.sync ? "FULL" : "NORMAL", load);
    }
    if (o.engine == "sqlite-full") {
        return std::make_unique<sqlite_engine>(o.dir, "FULL", load);
    }
    die("unknown engine " + o.engine);
}

} // namespace mqttwire::broker::bench
