#!/usr/bin/env bash
# Runs the benchmarks on demand (never part of the test suite).
#   bench/run.sh plugins      discovery and loading; ABI call cost
#   bench/run.sh ls           `container ls` against `podman ps`, 0 and 100 containers
#   bench/run.sh start        `container run --rm IMAGE true` against podman and raw crun
#   bench/run.sh pull         a ~100 MiB pull against podman, skopeo+umoci and the untar floor
#   bench/run.sh pull-memory  the daemon's memory growth while it pulls a 1 GiB layer
#   bench/run.sh density      50 idle containers: memory each; 50 parallel starts
#   bench/run.sh net          run on the default network, TCP between containers, 50 networks (against podman)
#   bench/run.sh compose      up -d then down of a five-service file (against podman-compose)
#   bench/run.sh microvm      run --rm in a VM against a bare QEMU boot; idle VM memory; memory given back
#   bench/run.sh build        a 3-stage build with a 50 MiB context, cold and warm, against buildah
#   bench/run.sh docker-api   docker run --rm through our socket against podman's Docker API and our CLI; docker ps with 100
#   bench/run.sh oci          podman run --rm through container-oci against podman through crun and runc
#   bench/run.sh scale        500 running containers, then 200 on 20 networks: start latency, ls, memory, restart
#   bench/run.sh rootless     run --rm as an ordinary user against podman rootless and our root mode
#   bench/run.sh all          every suite above, one after the other, then one table of every ratio
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
meson compile -C "$build" >/dev/null
suites=(plugins ls start pull pull-memory density net compose microvm docker-api build oci scale rootless)
one() {
  case "$1" in
    plugins) "$build/bench/plugin-bench" "${2:-50}" ;;
    ls) bench/ls.sh ;;
    start) bench/start.sh ;;
    pull) bench/pull.sh ;;
    pull-memory) bench/pull_memory.sh ;;
    density) bench/density.sh ;;
    net) bench/net.sh ;;
    compose) bench/compose.sh ;;
    microvm) bench/microvm.sh ;;
    docker-api) bench/docker_api.sh ;;
    build) bench/build.sh ;;
    oci) bench/oci.sh ;;
    scale) bench/scale.sh ;;
    rootless) bench/rootless.sh ;;
    *) echo "bench/run.sh: unknown suite \"$1\" (${suites[*]}, all)" >&2; exit 2 ;;
  esac
}
if [ "${1:-plugins}" != all ]; then
  one "${1:-plugins}" "${2:-}"
  exit
fi
# all: each suite's lines as they come (a suite that fails is named and the
# rest go on), then every ratio of the run in one table.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=()
for s in "${suites[@]}"; do
  echo "== $s"
  one "$s" 2>&1 | tee -a "$out" || failed+=("$s")
done
echo
echo "| metric | ratio | against |"
echo "|---|---|---|"
awk '$1 == "metric" && $2 ~ /ratio/ { rest = ""; for (i = 4; i <= NF; i++) rest = rest " " $i; printf "| %s | %s |%s |\n", $2, $3, rest }' "$out"
[ ${#failed[@]} -eq 0 ] || { echo "suites that failed: ${failed[*]}" >&2; exit 1; }
