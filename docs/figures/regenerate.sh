#!/bin/sh
# Regenerates the figures of this folder (linked from the README) from a checkout:
#   sh docs/figures/regenerate.sh
# km.*: tacebench replicate --plot for seed 000's IPTW overall survival (200 replicates,
# alternative worlds off); performance.*: the default benchmark study's bias, faceted by
# scenario (100 replicates per scenario). Measured: 27 minutes on 2 cores shared at a load
# average of 10 to 16 (2026-12-05).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tacebench replicate tace_sorafenib_ehs --reps 200 --seed 0 --worlds none --plot \
    --out "$work/replicate" --quiet > /dev/null
for ext in png svg; do
    cp "$work/replicate/plots/tace_sorafenib_ehs_iptw_os.$ext" "$here/km.$ext"
done
tacebench study run default --reps 100 --out "$work/study" --plot --quiet > /dev/null
for ext in png svg; do
    cp "$work/study/figures/performance_bias.$ext" "$here/performance.$ext"
done
echo "wrote $here/km.png, km.svg, performance.png, performance.svg"
