#!/usr/bin/env bash
# The commands of docs/labs/scale-out.md, in order (run as root from the
# repository root after scripts/build).
set -x
scripts/lab up config/labs/first-ase.toml --nodes 2 --name pool
scripts/lab exec pool-ase-one-0 /usr/bin/python3 -u -m http.server 80 --bind 10.0.1.4 >/tmp/pool-0.log 2>&1 &
scripts/lab exec pool-ase-one-1 /usr/bin/python3 -u -m http.server 80 --bind 10.0.1.5 >/tmp/pool-1.log 2>&1 &
# Node 0 probes; the lab's health relay gives node 1 its verdicts.
until build/control/asenetctl stats --socket /run/asenet-lab/pool/ctl.sock | grep -q "10.0.1.5:80 up, last ok"; do sleep 1; done
sleep 2
cat /run/asenet-lab/pool/health-relay.log
build/control/asenetctl stats --socket /run/asenet-lab/pool/ctl-1.sock --json | grep -o '"health":{[^}]*}'
# Four more client addresses, then 40 connections from each of the five.
for n in 11 12 13 14; do scripts/lab exec pool-internet ip addr add 203.0.113.$n/32 dev eth0; done
for n in 10 11 12 13 14; do
  for k in $(seq 40); do
    scripts/lab exec pool-internet curl -s -o /dev/null -w '%{http_code}\n' --interface 203.0.113.$n http://192.23.1.2/
  done
done | sort | uniq -c
build/control/asenetctl stats --socket /run/asenet-lab/pool/ctl.sock | grep -E "^(generation|node|  internet|  worker)"
build/control/asenetctl stats --socket /run/asenet-lab/pool/ctl-1.sock | grep -E "^(generation|node|  internet|  worker)"
scripts/lab exec pool-internet ip route show default
scripts/lab exec pool-internet ip nexthop show id 100
# One generation on both nodes.
scripts/lab push --name pool config/labs/first-ase.toml
# iperf3 through the pool, node 1 drained two seconds in.
kill %1 %2
scripts/lab exec pool-ase-one-0 iperf3 -s -p 80 -B 10.0.1.4 >/tmp/pool-iperf-0.log 2>&1 &
scripts/lab exec pool-ase-one-1 iperf3 -s -p 80 -B 10.0.1.5 >/tmp/pool-iperf-1.log 2>&1 &
sleep 1
scripts/lab exec pool-internet iperf3 -c 192.23.1.2 -p 80 -t 6 -f m > /tmp/pool-iperf.txt &
sleep 2
scripts/lab drain 1 --name pool
wait %5
grep -E "sec|receiver|sender" /tmp/pool-iperf.txt
scripts/lab status --name pool | grep -E "^(lab|node)"
scripts/lab undrain 1 --name pool
kill %3 %4
scripts/lab down pool
# The same pool, its VIP announced over BGP by each node (BIRD).
scripts/lab up config/labs/first-ase.toml --nodes 2 --bgp --name bgp
until ip -n bgp-internet route show 192.23.1.2 | grep -q 198.18.101.2; do sleep 0.5; done
ip -n bgp-internet route show 192.23.1.2
birdc -s /run/asenet-lab/bgp/bird-router.ctl show route 192.23.1.2/32
scripts/lab drain 1 --name bgp
ip -n bgp-internet route show 192.23.1.2
scripts/lab undrain 1 --name bgp
kill -9 $(cat /run/asenet-lab/bgp/asenetd-1.pid)
sleep 2
ip -n bgp-internet route show 192.23.1.2
cat /run/asenet-lab/bgp/bgp-watch.log
scripts/lab down bgp
# A pool of three: node 2 fails, leaves, and joins again.
scripts/lab up config/labs/first-ase.toml --nodes 3 --name trio
scripts/lab exec trio-ase-one-0 python3 -m http.server 80 --bind 10.0.1.4 >/tmp/trio-h0.log 2>&1 &
scripts/lab exec trio-ase-one-1 python3 -m http.server 80 --bind 10.0.1.5 >/tmp/trio-h1.log 2>&1 &
for n in 11 12 13 14 15 16; do scripts/lab exec trio-internet ip addr add 203.0.113.$n/32 dev eth0; done
kill -9 $(cat /run/asenet-lab/trio/asenetd-2.pid)
for n in 10 11 12 13 14 15 16; do scripts/lab exec trio-internet curl -s -o /dev/null -m 3 -w "203.0.113.$n %{http_code}\n" --interface 203.0.113.$n http://192.23.1.2/; done
scripts/lab leave 2 --name trio
for n in 10 11 12 13 14 15 16; do scripts/lab exec trio-internet curl -s -o /dev/null -m 3 -w "203.0.113.$n %{http_code}\n" --interface 203.0.113.$n http://192.23.1.2/; done
scripts/lab status --name trio | grep -E "^(lab|node)"
scripts/lab join 2 --name trio
build/control/asenetctl stats --socket /run/asenet-lab/trio/ctl-2.sock | head -1
build/control/asenetctl stats --socket /run/asenet-lab/trio/ctl-2.sock --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pool"])'
scripts/lab down trio
