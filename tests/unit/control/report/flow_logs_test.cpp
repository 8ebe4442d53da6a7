// NSG flow-log files (issue 14, part 1): a resource name never becomes a path
// outside the output folder, whether it slipped past validation or a symlink
// was planted inside the folder. Issue 19, section 2: Azure's blob layout (one
// PT1H.json per NSG, hour and MAC) and its cadence (a record per minute,
// appended, the document whole after each append).
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
FlowLogEvent deny_event(const TableSpec& spec, uint64_t seconds = 61) {
  FlowLogEvent e;
  e.kind = FlowLogKind::kDeny;
  e.time_ns = seconds * 1000000000ull;
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

/// Where Azure would put the NSG "logged"'s blob for 1970-01-01 00:xx and the
/// NIC the test event names, 192.23.1.2 (network-watcher-nsg-flow-logging-overview: resourceId=/.../
/// NETWORKSECURITYGROUPS/<NSG>/y=/m=/d=/h=/m=00/macAddress=<MAC>/PT1H.json).
const char* kBlob =
    "resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/ASENET/PROVIDERS/"
    "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/LOGGED/y=1970/m=01/d=01/h=00/m=00/macAddress=000D3A170102/PT1H.json";

}  // namespace

TEST(FlowLogFiles, AValidNameIsWrittenInsideTheFolder) {
  Dirs d;
  const TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  FlowLogWriter w(d.out.string());
  w.add(deny_event(spec), spec);
  std::string err;
  ASSERT_TRUE(w.flush_all(err)) << err;
  EXPECT_TRUE(fs::exists(d.out / kBlob));
  EXPECT_EQ(w.files_written(), 1u);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(FlowLogFiles, EachMinuteIsARecordAppendedToTheHoursFile) {
  Dirs d;
  const TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  FlowLogWriter w(d.out.string());
  std::string err;
  w.add(deny_event(spec, 61), spec);  // minute 00:01
  ASSERT_TRUE(w.flush(120ull * 1000000000ull, err)) << err;
  const std::string first = slurp(d.out / kBlob);
  EXPECT_EQ(first.rfind("{\"records\":[{\"time\":\"1970-01-01T00:01:00.0000000Z\"", 0), 0u) << first;
  EXPECT_TRUE(first.ends_with("]}\n")) << first;
  EXPECT_EQ(count(first, "\"category\""), 1u);
  w.add(deny_event(spec, 150), spec);  // minute 00:02
  w.add(deny_event(spec, 170), spec);
  ASSERT_TRUE(w.flush(179ull * 1000000000ull, err)) << err;  // 00:02 has not ended
  EXPECT_EQ(slurp(d.out / kBlob), first);
  ASSERT_TRUE(w.flush(180ull * 1000000000ull, err)) << err;
  const std::string second = slurp(d.out / kBlob);
  EXPECT_EQ(second.rfind(first.substr(0, first.size() - 3) + ",{\"time\":\"1970-01-01T00:02:00.0000000Z\"", 0), 0u)
      << second;
  EXPECT_EQ(count(second, "\"category\""), 2u);
  EXPECT_EQ(count(second, ",T,I,D,B,,,,"), 3u);
  EXPECT_EQ(w.files_written(), 1u);
  EXPECT_EQ(w.records_written(), 2u);
  EXPECT_EQ(w.tuples_written(), 3u);
  // A late event for a minute already written goes into the next record, its
  // tuple keeping its own time.
  w.add(deny_event(spec, 100), spec);
  ASSERT_TRUE(w.flush_all(err)) << err;
  const std::string third = slurp(d.out / kBlob);
  EXPECT_NE(third.find("{\"time\":\"1970-01-01T00:03:00.0000000Z\""), std::string::npos) << third;
  EXPECT_NE(third.find("\"100,203.0.113.50,"), std::string::npos) << third;
  // The next hour is another file.
  w.add(deny_event(spec, 3600 + 5), spec);
  ASSERT_TRUE(w.flush_all(err)) << err;
  EXPECT_TRUE(fs::exists(d.out / std::string(kBlob).replace(std::string(kBlob).find("h=00"), 4, "h=01")));
  EXPECT_EQ(w.files_written(), 2u);
}

TEST(FlowLogFiles, AFileAsenetDidNotWriteIsLeftAsItIs) {
  Dirs d;
  const TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  fs::create_directories((d.out / kBlob).parent_path());
  { std::ofstream(d.out / kBlob) << "someone else's notes\n"; }
  FlowLogWriter w(d.out.string());
  w.add(deny_event(spec), spec);
  std::string err;
  EXPECT_FALSE(w.flush_all(err));
  EXPECT_NE(err.find("not a document asenet wrote"), std::string::npos) << err;
  EXPECT_EQ(slurp(d.out / kBlob), "someone else's notes\n");
  EXPECT_EQ(w.tuples_lost(), 1u);
  EXPECT_EQ(w.tuples_written(), 0u);
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
  fs::create_directory_symlink(d.outside, d.out / "resourceId=");  // planted by someone else
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
  // Nor does appending read it or write through it.
  bool created = false;
  EXPECT_FALSE(
      append_to_document_beneath(d.out.string(), {"a"}, "PT1M.json", DocumentShape{"[", ",", "]"}, "1", created, err));
  EXPECT_NE(err.find("not followed"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(d.outside / "victim"));
}
