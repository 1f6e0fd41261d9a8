// Listings in docker's formats: `--format` takes table (ours), json (our
// API's shape), or a Go template over docker's fields for the kind, with
// "table " before it for aligned columns under a header; `--filter` takes
// docker's KEY=VALUE filters, matched by the daemon's Docker routes.
#pragma once

#include "cli/app.hpp"
#include "cli/go_template.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ctr::cli {

// One item as a template sees it: docker's fields, and its labels for
// `{{.Label "key"}}`.
struct RowView {
    nlohmann::json fields;
    nlohmann::json labels = nlohmann::json::object();
};

// What a kind of listing shows a template: the header of each field (for
// "table ..."), and each item's fields.
struct ListKind {
    std::map<std::string, std::string> headers;
    std::function<std::vector<RowView>(const nlohmann::json& item, bool no_trunc)> rows;
};

// "table" and "json" are ours; anything else is a Go template.
bool is_template(const std::string& format);

// Checks a --format before anything is asked of the daemon: a template
// that does not parse is an error naming the flag and the problem.
Status check_format(const std::string& format);

// Prints `items` (docker's shape of the kind) through the template
// `format`; an error names the template's problem.
Status print_template(const std::string& format, const nlohmann::json& items, const ListKind& kind, bool no_trunc = false);

// Lines of cells split at tabs, aligned as docker's tabwriter does (cells
// at least 10 wide, 3 spaces between).
std::string align_tabs(const std::string& text);

// --filter KEY=VALUE values as the Docker API's filters document (url
// escaped, for ?filters=); an error names a value without "=".
Result<std::string> filters_query(const std::vector<std::string>& filters);

// Where a kind's items come from: our API's list, and Docker's view of it
// (which takes ?filters=); `ours_key` in ours names what `docker_key` does
// in Docker's, to narrow ours to what the filters kept.
struct ListSource {
    std::string ours;          // "/v1/containers?all=1"
    std::string docker;        // "/v1/docker/containers/json?all=1"
    std::string ours_key;      // "id"
    std::string docker_key;    // "Id"
    std::string docker_items;  // the list's key in Docker's reply ("Volumes"); empty: the reply is the list
};

// Runs a listing: a template prints Docker's view, else `print_ours` gets
// our items (narrowed by the filters) for its table, json or -q. Returns
// the exit code.
int run_listing(const api::Client& client, const ListSource& src, const ListFlags& lf, const ListKind& kind,
                const std::function<void(const nlohmann::json& items)>& print_ours);

// docker's sizes: decimal units at 3 digits ("4.86MB"), and ps -s's
// "2B (virtual 4.86MB)" of what a container wrote and that with its image.
std::string docker_size(double bytes);
std::string size_text(int64_t rw, int64_t root_fs);

// The kinds, with docker's fields and headers.
const ListKind& container_kind();
const ListKind& image_kind();
const ListKind& network_kind();
const ListKind& volume_kind();

// "Up 5 minutes" and "5 minutes ago" units, as docker's HumanDuration.
std::string human_duration(int64_t seconds);

}  // namespace ctr::cli
