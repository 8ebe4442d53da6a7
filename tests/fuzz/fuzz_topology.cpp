// libFuzzer target: the topology loader and the compiler (issue 9). Any text
// either loads (and then compiles to a spec the wire validator accepts) or is
// refused with a TopologyError carrying file:line:col. Any other exception, a
// crash or a sanitizer report is a finding.
#include <string>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "protocol/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace asenet::control;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const Topology t = load_topology_text(text, "fuzz.toml");
    const auto spec = compile(t, 1);
    std::string why;
    if (!wire::validate_spec(spec, why)) {
      std::fprintf(stderr, "a loaded topology compiled to an invalid spec: %s\n", why.c_str());
      std::abort();
    }
  } catch (const TopologyError& e) {
    const std::string m = e.what();
    if (m.rfind("fuzz.toml:", 0) != 0) {
      std::fprintf(stderr, "error without file:line:col: %s\n", m.c_str());
      std::abort();
    }
  }
  return 0;
}
