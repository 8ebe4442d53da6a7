#!/usr/bin/env bash
# The commands of docs/labs/nsg-performance.md, in order (repository root, after scripts/build).
set -x
build/control/asenetctl bench --scenario established --nsg-rules 1000 --flows 100000 --seconds 2
for n in 100 1000 4000; do build/control/asenetctl bench --scenario new-flows --nsg-rules $n --seconds 2 --no-baseline --no-stages; done
build/control/asenetctl bench --scenario nsg-10k --seconds 2 --no-baseline
scripts/bench-nsg
