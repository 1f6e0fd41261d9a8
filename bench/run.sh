#!/usr/bin/env bash
# Runs the benchmarks on demand (never part of the test suite).
#   bench/run.sh plugins      discovery and loading; ABI call cost
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
meson compile -C "$build" >/dev/null
case "${1:-plugins}" in
  plugins) "$build/bench/plugin-bench" "${2:-50}" ;;
  *) echo "bench/run.sh: unknown suite \"$1\" (plugins)" >&2; exit 2 ;;
esac
