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
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
meson compile -C "$build" >/dev/null
case "${1:-plugins}" in
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
  *) echo "bench/run.sh: unknown suite \"$1\" (plugins, ls, start, pull, pull-memory, density, net, compose, microvm, docker-api, build, oci)" >&2; exit 2 ;;
esac
