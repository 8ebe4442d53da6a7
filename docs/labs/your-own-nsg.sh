#!/usr/bin/env bash
# The commands of docs/labs/your-own-nsg.md, in order (repository root, after scripts/build).
set -x
mkdir -p build/your-own-nsg
build/control/asenetctl import --out build/your-own-nsg/review.toml config/examples/azure/*.json
build/control/asenetctl validate --topology build/your-own-nsg/review.toml
build/control/asenetctl nsg analyze --topology build/your-own-nsg/review.toml
build/control/asenetctl verify --topology build/your-own-nsg/review.toml --nsg ase-nsg --direction Inbound --protocol TCP --local 10.0.1.1:443 --remote 8.8.8.8:49152
build/control/asenetctl bench --topology build/your-own-nsg/review.toml --seconds 2
# Drop the shadowed and the redundant rule: a clean-up that must change nothing.
python3 - <<'PY'
import re
t = open("build/your-own-nsg/review.toml").read()
for rule in ("AllowHttpsToSubnet", "AllowVnet"):
    t = re.sub(r'\[\[nsgs\.rules\]\]\nname = "%s"\n(?:[^\[\n].*\n)*' % rule, "", t)
open("build/your-own-nsg/cleaned.toml", "w").write(t)
# The change under review: HTTPS only from the partner range 198.51.100.0/24.
t = t.replace('name = "AllowHttps"\npriority = 200\ndirection = "Inbound"\naccess = "Allow"\nprotocol = "Tcp"\n'
              'source_address_prefixes = "Internet"',
              'name = "AllowHttps"\npriority = 200\ndirection = "Inbound"\naccess = "Allow"\nprotocol = "Tcp"\n'
              'source_address_prefixes = ["198.51.100.0/24"]')
open("build/your-own-nsg/proposed.toml", "w").write(t)
PY
build/control/asenetctl nsg diff --topology build/your-own-nsg/review.toml --against build/your-own-nsg/cleaned.toml
build/control/asenetctl nsg diff --topology build/your-own-nsg/cleaned.toml --against build/your-own-nsg/proposed.toml --pcap pcaps/demo/internet.pcap --pcap pcaps/demo/vnet.pcap
build/control/asenetctl verify --topology build/your-own-nsg/proposed.toml --direction Inbound --protocol TCP --local 10.0.1.4:443 --remote 203.0.113.50:51000
