// doctest's main, and a listener that names each case skipped by its
// decorator (CTR_NEEDS_ROOT and the like): scripts/test.sh lists the names
// under the totals, and on CI any such line fails the run.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdio>

namespace {

struct SkipLister : doctest::IReporter {
    explicit SkipLister(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    // Filters (-tc, -sf) skip cases too; only the decorator's count here.
    void test_case_skipped(const doctest::TestCaseData& tc) override {
        if (tc.m_skip) std::printf("[doctest] skipped: %s\n", tc.m_name);
    }
};

}  // namespace

REGISTER_LISTENER("skip-lister", 1, SkipLister);
