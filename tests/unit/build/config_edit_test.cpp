// commit -c: Dockerfile lines applied to an image config, the same code
// build's config instructions run through.
#include "build/config_edit.hpp"

#include <doctest/doctest.h>

using nlohmann::json;

TEST_CASE("commit's changes set the config as the Dockerfile instructions do") {
    json image = {{"config", {{"Env", {"PATH=/bin", "MODE=old"}}, {"Cmd", {"sh"}}, {"WorkingDir", "/"}}}};
    REQUIRE(ctr::build::apply_changes(image, {"ENV MODE=new EXTRA=\"a b\"", "CMD [\"cat\", \"/f\"]", "WORKDIR srv", "USER app",
                                              "EXPOSE 80 53/udp", "LABEL k=v", "VOLUME /data", "ENTRYPOINT [\"/bin/tini\"]",
                                              "ONBUILD RUN true"}));
    const json& c = image["config"];
    CHECK(c["Env"] == json({"PATH=/bin", "MODE=new", "EXTRA=a b"}));
    CHECK(c["Cmd"] == json({"cat", "/f"}));  // set by a change, so ENTRYPOINT keeps it
    CHECK(c["Entrypoint"] == json({"/bin/tini"}));
    CHECK(c["WorkingDir"] == "/srv");
    CHECK(c["User"] == "app");
    CHECK(c["ExposedPorts"] == json({{"80/tcp", json::object()}, {"53/udp", json::object()}}));
    CHECK(c["Labels"]["k"] == "v");
    CHECK(c["Volumes"].contains("/data"));
    CHECK(c["OnBuild"] == json({"RUN true"}));

    // A shell form goes through /bin/sh -c; $VAR is the config's Env.
    REQUIRE(ctr::build::apply_changes(image, {"CMD echo $MODE", "ENV COPY=$MODE"}));
    CHECK(image["config"]["Cmd"] == json({"/bin/sh", "-c", "echo $MODE"}));
    CHECK(image["config"]["Env"].back() == "COPY=new");

    // An ENTRYPOINT alone drops the image's CMD, as in a Dockerfile.
    json other = {{"config", {{"Cmd", {"sh"}}}}};
    REQUIRE(ctr::build::apply_changes(other, {"ENTRYPOINT top"}));
    CHECK_FALSE(other["config"].contains("Cmd"));
}

TEST_CASE("commit's changes refuse what is no config change, naming the change") {
    json image = {{"config", json::object()}};
    for (const auto& [change, says] : std::vector<std::pair<std::string, std::string>>{
             {"RUN rm -rf /", "--change \"RUN rm -rf /\": RUN is not a change commit takes"},
             {"COPY a b", "--change \"COPY a b\": COPY is not a change commit takes"},
             {"HEALTHCHECK NONE", "HEALTHCHECK is not a change commit takes"},
             {"BOGUS x", "--change \"BOGUS x\": "},
             {"ENV", "--change \"ENV\": "}}) {
        auto st = ctr::build::apply_changes(image, {"ENV OK=1", change});
        REQUIRE_MESSAGE(!st, change);
        CHECK(st.error().status == CTR_E_INVALID_ARGUMENT);
        CHECK_MESSAGE(st.error().message.find(says) != std::string::npos, st.error().message);
        CHECK(st.error().message.find('\n') == std::string::npos);
    }
    CHECK(ctr::build::apply_changes(image, {}));
}
