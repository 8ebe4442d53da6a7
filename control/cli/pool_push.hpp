// asenetctl push to several asenetd nodes at once (pool_push.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataplane/tables/table_spec.hpp"

namespace asenet::control::cli {

/// Two-phase push of `spec` (with the push `header` live.cpp builds) to every
/// socket: all prepare, then all commit under one generation; any refusal in
/// the first phase leaves every node as it was. Exit code: 0, 1 (run time:
/// unreachable, or a commit that failed after others succeeded), 2 (refused).
int pool_push(const std::vector<std::string>& sockets, nlohmann::json header, const dataplane::TableSpec& spec,
              bool json, double timeout);

/// For a push that changes a pool's members (`header` has "members"): the
/// members before the change, added to `header` as "previous_members". They
/// are what the nodes that took the latest change run (the most
/// membership_changes in stats); a node that joins, fresh, runs none of its
/// own. Exit code (after a message) when a node cannot say or they disagree.
std::optional<int> add_previous_members(const std::vector<std::string>& sockets, nlohmann::json& header,
                                        double timeout);

}  // namespace asenet::control::cli
