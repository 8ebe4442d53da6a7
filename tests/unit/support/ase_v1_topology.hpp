// The ASEv1 example policy (azure-semantics 5.1) plus a SQL VM with a NIC
// NSG: the topology the NSG rule and IP flow verify tests share.
#pragma once

namespace asenet::testing {

inline constexpr const char* kAseV1Topology = R"(
[vnet]
name = "corp-vnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/26"
nsg = "ase-nsg"
[[subnets]]
name = "data"
prefix = "10.0.2.0/24"
nsg = "data-nsg"
[[subnets]]
name = "bare"
prefix = "10.0.3.0/24"
[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[[hosts]]
name = "sql-vm"
ip = "10.0.2.4"
nsg = "sql-nic"
[[nsgs]]
name = "ase-nsg"
[[nsgs.rules]]
name = "ALLOW_AzureMngmt"
priority = 100
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "INTERNET"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "454-455"
[[nsgs.rules]]
name = "RESTRICT_HTTPS"
priority = 300
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "1.2.3.4/32"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "443"
[[nsgs.rules]]
name = "DenyAllHttps"
priority = 400
direction = "Inbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "443"
[[nsgs.rules]]
name = "DenyProbes"
priority = 500
direction = "Inbound"
access = "Deny"
protocol = "*"
source_address_prefixes = "168.63.129.16"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "*"
[[nsgs.rules]]
name = "FtpDev"
priority = 600
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = ["203.0.113.0/24", "198.51.100.7"]
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "21,10001-10020"
[[nsgs]]
name = "data-nsg"
[[nsgs.rules]]
name = "DenyOutWeb"
priority = 100
direction = "Outbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "80"
[[nsgs]]
name = "sql-nic"
[[nsgs.rules]]
name = "DenyRdp"
priority = 100
direction = "Inbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "3389"
[[nsgs.rules]]
name = "DenySmtpOut"
priority = 100
direction = "Outbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "25"
)";

}  // namespace asenet::testing
