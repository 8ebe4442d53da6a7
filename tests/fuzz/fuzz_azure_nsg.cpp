// libFuzzer target: the Azure NSG JSON importer (az CLI, ARM resources,
// templates). Any text is imported or refused with a TopologyError.
#include <string>

#include "control/model/azure_nsg.hpp"
#include "control/model/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace asenet::control;
  static const Topology topo = load_topology_text(
      "[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n[service_tags]\nSql = [\"40.78.0.0/16\"]\n",
      "t.toml");
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)parse_nsg_json(text, "fuzz.json", topo);
  } catch (const TopologyError&) {}
  return 0;
}
