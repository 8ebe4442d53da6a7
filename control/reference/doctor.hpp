// asenetctl doctor: would each ASE stay healthy? A static check of what the
// ASE docs say suspends an ASE (azure-semantics 2, 4 and 8.5): management
// traffic on 454/455 must get in and its answers must leave the way they came;
// outbound dependencies must be reachable and leave with the VIP as source;
// nothing else may live in the ASE subnet.
#pragma once

#include <string>
#include <vector>

#include "control/model/topology.hpp"

namespace asenet::control {

struct DoctorFinding {
  bool ok = true;
  std::string check;   ///< short name: "management-inbound", "management-return", ...
  std::string detail;  ///< plain words, naming the route or rule responsible
};

struct DoctorReport {
  std::string ase;
  bool healthy = true;
  std::vector<DoctorFinding> findings;
};

std::vector<DoctorReport> run_doctor(const Topology& topo);
std::string doctor_json(const std::vector<DoctorReport>& reports);

}  // namespace asenet::control
