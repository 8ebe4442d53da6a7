// NSG flow-log files (issue 14, part 1): a resource name never becomes a path
// outside the output folder, whether it slipped past validation or a symlink
// was planted inside the folder.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "control/compiler/compile.hpp"
#include "control/report/flow_logs.hpp"
#include "control/report/safe_fs.hpp"
#include "control/model/topology.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;
namespace fs = std::filesystem;

namespace {

const char* kTopo = R"([vnet]
name = "corp-vnet"
address_space = "10.0.0.0/16"
[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/24"
nsg = "logged"
[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
instances = ["10.0.1.4"]
[[nsgs]]
name = "logged"
flow_logs = true
)";

/// A fresh folder under the test temp dir: the output folder and a place
/// "outside" it that must stay empty.
struct Dirs {
  fs::path base, out, outside;
  Dirs() {
    base = fs::path(::testing::TempDir()) / ("asenet-flowlogs-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base);
    out = base / "out";
    outside = base / "outside";
    fs::create_directories(out);
    fs::create_directories(outside);
  }
  ~Dirs() { fs::remove_all(base); }
  [[nodiscard]] bool outside_empty() const { return fs::is_empty(outside); }
};

/// One denied TCP flow from the Internet to the VIP, decided by the NSG's
/// DenyAllInBound rule, at one minute past the epoch.
FlowLogEvent deny_event(const TableSpec& spec) {
  FlowLogEvent e;
  e.kind = FlowLogKind::kDeny;
  e.time_ns = 61ull * 1000000000ull;
  e.proto = 6;
  e.src = 0xcb007132;  // 203.0.113.50
  e.dst = e.xdst = 0xc0170102;
  e.sport = 50000;
  e.dport = e.xdport = 443;
  e.nrules = 1;
  for (uint32_t i = 0; i < spec.nsg_rules.size(); ++i)
    if (spec.nsg_rules[i].name == "DenyAllInBound") e.rule[0] = i;
  return e;
}

}  // namespace

TEST(FlowLogFiles, AValidNameIsWrittenInsideTheFolder) {
  Dirs d;
  const TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  FlowLogWriter w(d.out.string());
  w.add(deny_event(spec), spec);
  std::string err;
  ASSERT_TRUE(w.flush_all(err)) << err;
  EXPECT_TRUE(fs::exists(d.out / "logged/y=1970/m=01/d=01/h=00/m=01/PT1M.json"));
  EXPECT_EQ(w.files_written(), 1u);
}

TEST(FlowLogFiles, ANameThatIsAPathIsRefusedEvenPastValidation) {
  Dirs d;
  TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  // As if a pushed spec had skipped asenetd's name check: the writer itself refuses.
  for (const char* name : {"..", "../outside", "/tmp/x", "."}) {
    spec.nsgs[0].name = name;
    FlowLogWriter w(d.out.string());
    w.add(deny_event(spec), spec);
    std::string err;
    EXPECT_FALSE(w.flush_all(err)) << name;
    EXPECT_NE(err.find("refusing the path component"), std::string::npos) << err;
  }
  EXPECT_TRUE(d.outside_empty());
  EXPECT_FALSE(fs::exists(d.base / "y=1970"));
}

TEST(FlowLogFiles, ASymlinkInsideTheFolderIsNotFollowed) {
  Dirs d;
  const TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  fs::create_directory_symlink(d.outside, d.out / "logged");  // planted by someone else
  FlowLogWriter w(d.out.string());
  w.add(deny_event(spec), spec);
  std::string err;
  EXPECT_FALSE(w.flush_all(err));
  EXPECT_NE(err.find("not followed"), std::string::npos) << err;
  EXPECT_TRUE(d.outside_empty());
}

TEST(FlowLogFiles, ASymlinkedFileIsNotFollowed) {
  Dirs d;
  fs::create_directories(d.out / "a");
  fs::create_symlink(d.outside / "victim", d.out / "a" / "PT1M.json");
  std::string err;
  EXPECT_FALSE(write_file_beneath(d.out.string(), {"a"}, "PT1M.json", "x", false, err));
  EXPECT_NE(err.find("not followed"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(d.outside / "victim"));
}
