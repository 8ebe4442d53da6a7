// The EAL suite's main: EAL once (--no-huge, its own file prefix), the mbuf
// pool the tests share, every test, then EAL's runtime folder removed.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "dataplane/ports/ports.hpp"
#include "tests/eal/support/eal_rig.hpp"

using namespace asenet::dataplane;

rte_mempool* g_pool = nullptr;

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string err;
  const std::string prefix = "asenet-eal-test-" + std::to_string(getpid());
  if (eal_init({"eal_tests", "--no-huge", "--no-shconf", "-m", "512", "--no-pci", "--no-telemetry", "--log-level=error",
                "--lcores", floating_lcores(2), "--file-prefix", prefix},
               err) < 0) {
    std::cerr << err << "\n";
    return 1;
  }
  g_pool =
      rte_pktmbuf_pool_create("test_pool", asenet::eal_test::kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (g_pool == nullptr) return 1;
  const int rc = RUN_ALL_TESTS();
  const std::string dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
