// Writes the wire encoding of each topology given into the fuzz_wire seed
// corpus: seed_wire OUT_DIR TOPOLOGY... (scripts/fuzz --seeds runs it).
#include <fstream>
#include <iostream>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "protocol/wire.hpp"

int main(int argc, char** argv) {
  using namespace asenet::control;
  if (argc < 3) {
    std::cerr << "usage: seed_wire OUT_DIR TOPOLOGY...\n";
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    try {
      const auto spec = compile(load_topology(argv[i]), 1);
      std::ofstream(std::string(argv[1]) + "/spec-" + std::to_string(i - 1) + ".bin", std::ios::binary)
          << wire::encode_spec(spec);
    } catch (const TopologyError& e) {
      std::cerr << e.what() << "\n";
    }
  }
  return 0;
}
