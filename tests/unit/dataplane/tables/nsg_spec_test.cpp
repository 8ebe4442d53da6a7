// NSG priorities as rte_acl priorities (dataplane/tables/nsg_spec.hpp).
#include <gtest/gtest.h>

#include "dataplane/tables/nsg_spec.hpp"

using namespace asenet::dataplane;

TEST(AclPriority, LowerAzurePriorityWinsInRteAcl) {
  for (uint32_t p = 100; p < 4096; ++p) EXPECT_GT(acl_priority(p), acl_priority(p + 1));
  EXPECT_GT(acl_priority(4096), acl_priority(65000));
  EXPECT_GT(acl_priority(65001), acl_priority(65500));
  EXPECT_GE(acl_priority(65500), 1u);  // RTE_ACL_MIN_PRIORITY
}
