#include "cli/go_template.hpp"

#include <doctest/doctest.h>

using nlohmann::json;
using ctr::cli::gotmpl::Template;

namespace {

std::string run(const std::string& text, const json& data, const ctr::cli::gotmpl::Methods& m = {}) {
    auto t = Template::parse(text);
    if (!t) return "PARSE: " + t.error().message;
    auto r = t->execute(data, m);
    if (!r) return "EXEC: " + r.error().message;
    return *r;
}

const json kInspect = json::parse(R"({
  "Id": "abc123", "Name": "/web",
  "State": {"Status": "running", "Pid": 42, "Running": true, "ExitCode": 0, "Health": null},
  "Config": {"Image": "bb:1", "Env": ["A=1", "B=2"], "Labels": {"com.x": "y", "tier": "front"}},
  "NetworkSettings": {"Networks": {"default": {"IPAddress": "10.0.0.2"}, "back": {"IPAddress": "10.1.0.3"}}},
  "Mounts": [],
  "Ratio": 0.5, "Big": 2000000
})");

}  // namespace

TEST_CASE("templates: fields, chains, docker's inspect idioms") {
    CHECK(run("{{.State.Status}}", kInspect) == "running");
    CHECK(run("{{.State.Pid}} {{.State.Running}}", kInspect) == "42 true");
    CHECK(run("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", kInspect) == "10.1.0.3 10.0.0.2 ");
    CHECK(run("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", kInspect) == "com.x=y;tier=front;");
    CHECK(run("{{json .Config.Env}}", kInspect) == R"(["A=1","B=2"])");
    CHECK(run("{{.Config.Env}}", kInspect) == "[A=1 B=2]");
    CHECK(run("{{.Config.Labels}}", kInspect) == "map[com.x:y tier:front]");
    CHECK(run("{{index .Config.Labels \"com.x\"}}|{{index .Config.Labels \"nope\"}}|", kInspect) == "y||");
    CHECK(run("{{.Config.Labels.tier}} {{.Config.Labels.nope}}", kInspect) == "front <no value>");
    // Go's nil of the field's type: a pointer, a slice, a map; a map's missing key is <no value>.
    CHECK(run("{{.State.Health}}", kInspect) == "<nil>");
    const json nils = json::parse(R"({"Config": {"Env": null, "Labels": null, "Cmd": ["x"]}, "Extra": {"k": null}})");
    CHECK(run("{{.Config.Env}} {{.Config.Labels}} {{json .Config.Env}} {{len .Config.Cmd}}", nils) == "[] map[] null 1");
    CHECK(run("{{if .Config.Env}}y{{else}}n{{end}} {{range .Config.Env}}x{{end}}.", nils) == "n .");
    CHECK(run("{{.Extra.k}}", json::parse(R"({"Extra": {"k": null, "lower": 1}})")) == "<no value>");
    CHECK(run("{{.Ratio}} {{.Big}}", kInspect) == "0.5 2000000");
    CHECK(run("{{$.Name}}{{with .State}}:{{.Status}}:{{$.Id}}{{end}}", kInspect) == "/web:running:abc123");
}

TEST_CASE("templates: control flow, variables and trimming") {
    json d = {{"A", 1}, {"B", 0}, {"S", "x"}, {"L", {"a", "b", "c"}}, {"E", json::array()}};
    CHECK(run("{{if .A}}yes{{else}}no{{end}}", d) == "yes");
    CHECK(run("{{if .B}}1{{else if .S}}2{{else}}3{{end}}", d) == "2");
    CHECK(run("{{if .B}}1{{else if .E}}2{{else}}3{{end}}", d) == "3");
    CHECK(run("{{range .E}}x{{else}}empty{{end}}", d) == "empty");
    CHECK(run("{{range $i, $e := .L}}{{$i}}{{$e}}{{end}}", d) == "0a1b2c");
    CHECK(run("{{range .L}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", d) == "ac");
    CHECK(run("{{range .L}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", d) == "a");
    CHECK(run("{{$x := 1}}{{range .L}}{{$x = .}}{{end}}{{$x}}", d) == "c");
    CHECK(run("a  {{- .S -}}  b", d) == "axb");
    CHECK(run("{{/* a comment */}}{{.S}}", d) == "x");
    CHECK(run("{{with .E}}has{{else}}none{{end}}", d) == "none");
    CHECK(run("{{(index .L 1)}}{{len .L}}", d) == "b3");
}

TEST_CASE("templates: functions, Go's and docker's") {
    json d = {{"N", "web"}, {"L", {"a", "b"}}, {"I", 7}, {"T", "a,b,c"}};
    CHECK(run("{{upper .N}} {{lower \"AB\"}} {{title \"hello world\"}}", d) == "WEB ab Hello World");
    CHECK(run("{{join .L \", \"}}", d) == "a, b");
    CHECK(run("{{split .T \",\"}}", d) == "[a b c]");
    CHECK(run("{{index (split .T \",\") 2}}", d) == "c");
    CHECK(run("{{.N | upper | printf \"%-5s|\"}}", d) == "WEB  |");
    CHECK(run("{{printf \"%s=%d %q %5.2f %x %v%%\" .N .I .N 3.14159 255 .L}}", d) == "web=7 \"web\"  3.14 ff [a b]%");
    CHECK(run("{{printf \"%03d\" .I}}", d) == "007");
    CHECK(run("{{pad .N 1 2}}|{{truncate .N 2}}", d) == " web  |we");
    CHECK(run("{{and .N .I}} {{or \"\" .N}} {{not .I}}", d) == "7 web false");
    CHECK(run("{{if and (gt .I 5) (lt .I 10) (ne .N \"x\")}}in{{end}}", d) == "in");
    CHECK(run("{{eq .I 1 2 7}} {{le 2 2}} {{ge \"a\" \"b\"}}", d) == "true true false");
    CHECK(run("{{slice .N 1}} {{slice .N 0 2}}", d) == "eb we");
    CHECK(run("{{println .N .I}}", d) == "web 7\n");
    CHECK(run("{{print .N .I \"x\"}}", d) == "web7x");
    CHECK(run("{{json .}}", json{{"a", 1}}) == R"({"a":1})");
}

TEST_CASE("templates: methods of the data, as docker's .Label") {
    ctr::cli::gotmpl::Methods m;
    m["Label"] = [](const std::vector<json>& args) -> ctr::Result<json> { return json(args.at(0).get<std::string>() == "k" ? "v" : ""); };
    CHECK(run("{{.Label \"k\"}}|{{.Label \"z\"}}|", json{{"ID", "x"}}, m) == "v||");
    CHECK(run("{{.Label}}", json{{"ID", "x"}}, m).find("needs an argument") != std::string::npos);
}

TEST_CASE("templates: errors name the place and the value") {
    CHECK(run("{{.Nmae}}", json{{"Name", "x"}}) == "EXEC: template: 1:3: can't evaluate field Nmae");
    CHECK(run("ab\n  {{.Nope}}", json{{"Name", "x"}}) == "EXEC: template: 2:5: can't evaluate field Nope");
    CHECK(run("{{.State.Nope}}", kInspect) == "EXEC: template: 1:3: can't evaluate field Nope");
    CHECK(run("{{.Name", json()) == "PARSE: template: 1:1: unclosed action");
    CHECK(run("{{if .A}}x", json()) == "PARSE: template: 1:1: unexpected EOF: {{if}} has no {{end}}");
    CHECK(run("{{end}}", json()) == "PARSE: template: 1:1: unexpected {{end}}");
    CHECK(run("{{nosuch .A}}", json()) == "PARSE: template: 1:3: function \"nosuch\" not defined");
    CHECK(run("{{\"x}}", json()).rfind("PARSE: template: 1:", 0) == 0);
    CHECK(run("{{(.A}}", json()) == "PARSE: template: 1:4: unclosed left paren");
    CHECK(run("{{.A | .B}}", json{{"A", 1}, {"B", 2}}).find("can't give argument to non-function .B") != std::string::npos);
    CHECK(run("{{range .A}}{{end}}", json{{"A", "s"}}).find("range can't iterate over s") != std::string::npos);
    CHECK(run("{{break}}", json()) == "PARSE: template: 1:1: {{break}} outside {{range}}");
    CHECK(run("{{template \"x\"}}", json()) == "PARSE: template: 1:1: {{template}} is not supported");
    CHECK(run("{{lt 1 \"a\"}}", json()).find("incompatible types for comparison") != std::string::npos);
    CHECK(run("{{$y}}", json()).find("undefined variable: $y") != std::string::npos);
}

TEST_CASE("docker's escapes in a --format") {
    CHECK(ctr::cli::gotmpl::unescape_format("{{.ID}}\\t{{.Image}}\\n") == "{{.ID}}\t{{.Image}}\n");
    CHECK(ctr::cli::gotmpl::unescape_format("a\\b") == "a\\b");
}
