#!/usr/bin/env bash
# The commands of docs/labs/first-ase-lab.md, in order (run as root from the
# repository root after scripts/build).
set -x
scripts/lab up config/labs/first-ase.toml
# A web server in each instance (the ASE's workers).
scripts/lab exec first-ase-ase-one-0 /usr/bin/python3 -u -m http.server 80 --bind 10.0.1.4 >/tmp/ase-one-0.log 2>&1 &
scripts/lab exec first-ase-ase-one-1 /usr/bin/python3 -u -m http.server 80 --bind 10.0.1.5 >/tmp/ase-one-1.log 2>&1 &
# A web server on the Internet, at 198.51.100.80.
scripts/lab exec first-ase-internet /usr/bin/python3 -u -m http.server 80 --bind 198.51.100.80 >/tmp/internet.log 2>&1 &
# Wait until the load balancer's probes see both answer.
until build/control/asenetctl stats --socket /run/asenet-lab/first-ase/ctl.sock | grep -q "10.0.1.5:80 up, last ok"; do sleep 1; done
scripts/lab exec first-ase-internet curl -s -o /dev/null -w '%{http_code} from %{remote_ip}\n' http://192.23.1.2/
cat /tmp/ase-one-0.log /tmp/ase-one-1.log
build/control/asenetctl trace --socket /run/asenet-lab/first-ase/ctl.sock --count 2 --dst 192.23.1.2 &
sleep 0.5
scripts/lab exec first-ase-internet curl -s -o /dev/null http://192.23.1.2/
wait %4
scripts/lab exec first-ase-ase-one-0 curl -s -o /dev/null -w '%{http_code}\n' -m 3 http://198.51.100.80/
cat /tmp/internet.log
scripts/lab exec first-ase-internet curl -s -m 3 -o /dev/null -w '%{http_code}\n' http://192.23.1.2:443/
build/control/asenetctl stats --socket /run/asenet-lab/first-ase/ctl.sock
# iperf3 through the VIP. The NSG admits only TCP 80 from the Internet, so the
# iperf3 server listens on 80, in place of instance 0's web server. iperf3 opens
# two connections (control, then data) that the LB could send to different
# instances: instance 1 is marked down first, so both meet the one server.
kill %1 %2
build/control/asenetctl health --socket /run/asenet-lab/first-ase/ctl.sock --ase ase-one --instance 10.0.1.5 down
scripts/lab exec first-ase-ase-one-0 iperf3 -s -p 80 -B 10.0.1.4 >/tmp/iperf3.log 2>&1 &
sleep 1
scripts/lab exec first-ase-internet iperf3 -c 192.23.1.2 -p 80 -t 3
jobs -p | xargs -r kill
scripts/lab down

