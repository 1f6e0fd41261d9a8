// The container state machine: which action each state allows, in one table.
#include "store/container_state.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace ctr::store;

TEST_CASE("container states: names round-trip, unknown names are refused") {
    for (auto s : {ContainerState::creating, ContainerState::created, ContainerState::running, ContainerState::stopped})
        CHECK(parse_container_state(to_string(s)) == s);
    CHECK_FALSE(parse_container_state("exited"));
    CHECK_FALSE(parse_container_state(""));
}

TEST_CASE("container states: what each allows") {
    using A = ContainerAction;
    using S = ContainerState;
    // state -> the actions it allows (without force)
    const std::map<S, std::set<A>> allowed = {
        {S::creating, {}},
        {S::created, {A::start, A::stop, A::remove}},
        {S::running, {A::stop, A::kill, A::pause, A::exec, A::attach}},
        {S::stopped, {A::start, A::stop, A::remove}},
    };
    for (const auto& [state, actions] : allowed)
        for (auto a : {A::start, A::stop, A::kill, A::remove, A::pause, A::exec, A::attach}) {
            CAPTURE(to_string(state));
            CAPTURE(to_string(a));
            auto st = check_action("web", state, a);
            CHECK(bool(st) == (actions.count(a) == 1));
            if (!st) {
                CHECK(st.error().status == CTR_E_FAILED_PRECONDITION);
                CHECK(st.error().message.rfind("container web ", 0) == 0);
            }
        }
    // force: a running container may be removed; one being created may not.
    CHECK(check_action("web", S::running, A::remove, true));
    CHECK_FALSE(check_action("web", S::creating, A::remove, true));
    CHECK(check_action("web", S::running, A::start).error().message == "container web is already running");
    CHECK(check_action("web", S::stopped, A::exec).error().message == "container web is not running (stopped): cannot exec");
}
