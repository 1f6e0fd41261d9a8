// Rendering for the CLI: aligned tables, JSON, and one-line errors on stderr.
#pragma once

#include <ctr/base/strings.hpp>
#include "api/exit_codes.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

// Exit codes, as Docker's: the container's own for run; these for the engine.
using api::kExitCannotInvoke;
using api::kExitEngine;
using api::kExitNotFound;

// Columns padded to the widest cell plus three spaces, like `docker ps`.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// Prints JSON, two-space indented, with a trailing newline.
void print_json(const nlohmann::json& j);

// A container's published ports as `docker ps` shows them:
// "127.0.0.1:8080->80/tcp, 0.0.0.0:53->53/udp".
std::string ports_text(const nlohmann::json& container);

// A container's state for a table: "exited (137)" for a stopped one with its
// code, the health status after "running" when it has a check.
std::string state_text(const nlohmann::json& container);

// A CLI11 check for a whole number of seconds in [lo, hi], whose error
// names the range as numbers a person reads (CLI11's own prints 1.8e308).
CLI::Validator seconds_range(int64_t lo, int64_t hi);

// Prints an inspect's array as json, its times (created_at, started_at,
// finished_at, created: unix seconds in the API) as RFC 3339 UTC strings, as
// docker's inspect shows them.
void print_inspect(nlohmann::json items);
// Those times of one object as RFC 3339 strings, in place.
void readable_times(nlohmann::json& item);
using ctr::rfc3339;  // lib/base

// "1 second ago", "5 minutes ago", "2 days ago": `seconds` in the past.
std::string time_ago(int64_t seconds);

// A prune's answer {"removed": [...], "reclaimed": bytes}, the same for
// every kind: each removed name on a line, then "Total reclaimed space: X".
void print_prune(const nlohmann::json& reply);

// "container: <message>" on stderr; returns `code` so callers can `return error(...)`.
int error(const std::string& message, int code = kExitEngine);

}  // namespace ctr::cli
