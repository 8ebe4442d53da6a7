// What a new generation changes against the running one, one line per area
// (NSGs and their rules, attachments, routes, frontends, instances, probes,
// L2 mode, timers, packet handling): what `asenetctl push` prints, like a
// plan. Computed by asenetd on the spec it runs and the one pushed.
#pragma once

#include <string>
#include <vector>

#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

/// One line per area that differs; empty when the tables are the same.
std::vector<std::string> describe_changes(const dataplane::TableSpec& from, const dataplane::TableSpec& to);

}  // namespace asenet::control
