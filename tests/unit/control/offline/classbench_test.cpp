// ClassBench rule and trace files (control/offline/classbench): the reference scan against the expected matches in
// ../shared/testdata (skipped when absent).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/offline/classbench.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {
const std::string kShared = ASENET_SHARED_TESTDATA;
}  // namespace

// The plain-scan oracle itself agrees with dpdk-test-acl's expected results.
TEST(ClassBench, ReferenceScanAgreesWithExpectedFiles) {
  const std::string cb = kShared + "/classbench";
  if (!std::filesystem::exists(cb + "/expected")) GTEST_SKIP() << cb << " is absent";
  for (const char* name : {"acl1_1k", "fw1_1k", "ipc1_1k"}) {
    const auto rules = load_classbench_rules(cb + "/rules_1k/" + name);
    const auto trace = load_classbench_trace(cb + "/traces_1k/" + std::string(name) + "_trace");
    std::ifstream exp(cb + "/expected/" + std::string(name) + "_trace.expected");
    size_t i = 0;
    for (uint64_t want; exp >> want; ++i) {
      ASSERT_LT(i, trace.size());
      ASSERT_EQ(classbench_reference(rules, trace[i]), static_cast<uint32_t>(want)) << name << " line " << i + 1;
    }
    EXPECT_EQ(i, trace.size()) << name;
  }
}
