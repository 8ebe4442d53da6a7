#!/usr/bin/env bash
# The commands of docs/labs/forced-tunnelling.md, in order (root, repository root, after scripts/build).
set -x
build/control/asenetctl doctor --topology config/labs/forced-tunnel.toml
scripts/lab up config/labs/forced-tunnel.toml
scripts/lab exec forced-tunnel-ase-one-0 /usr/bin/python3 -u -m http.server 454 --bind 10.0.1.4 >/tmp/mgmt.log 2>&1 &
scripts/lab exec forced-tunnel-internet /usr/bin/python3 -u -m http.server 80 --bind 198.51.100.80 >/tmp/internet.log 2>&1 &
sleep 4
# Azure's management service calls the VIP on 454 from 70.37.57.58.
scripts/lab exec forced-tunnel-internet curl -s -m 3 -o /dev/null -w '%{http_code}\n' --interface 70.37.57.58 http://192.23.1.2:454/
build/control/asenetctl trace --socket /run/asenet-lab/forced-tunnel/ctl.sock --count 2 --port vnet --src 10.0.1.4 --sport 454 &
sleep 0.5
scripts/lab exec forced-tunnel-internet curl -s -m 3 -o /dev/null --interface 70.37.57.58 http://192.23.1.2:454/
wait %3
build/control/asenetctl next-hop --topology config/labs/forced-tunnel.toml --source 10.0.1.4 --destination 70.37.57.58
# The fix: a route table on the ASE subnet, 0.0.0.0/0 -> Internet.
build/control/asenetctl doctor --topology config/labs/forced-tunnel-fixed.toml
scripts/lab push config/labs/forced-tunnel-fixed.toml
scripts/lab exec forced-tunnel-internet curl -s -m 3 -o /dev/null -w '%{http_code}\n' --interface 70.37.57.58 http://192.23.1.2:454/
cat /tmp/mgmt.log
kill %1 %2
scripts/lab down
