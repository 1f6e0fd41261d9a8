#!/usr/bin/env bash
# The Docker API: `docker run --rm IMAGE true` through our socket against the
# same through podman's Docker API (`podman system service` on a private
# socket and store) and against our own CLI, in one run; then `docker ps -a`
# with 100 containers on each socket. Prints `metric NAME VALUE UNIT` lines
# and the ratios. Needs the docker CLI (client only), podman, hyperfine,
# umoci, skopeo, docker-registry; no dockerd.
source "$(dirname "$0")/lib.sh"
need podman hyperfine umoci skopeo docker-registry
# The client the tests drive (tests/support/run.cpp): Debian's, or the one
# install-deps.sh takes out of Debian's package; another on PATH only after.
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=/var/cache/container-tests/docker/docker
[ -x "$docker_cli" ] || docker_cli=$(command -v docker || true)
[ -x "$docker_cli" ] || { echo "bench: needs the docker CLI (scripts/install-deps.sh keeps one)" >&2; exit 1; }
runs=${RUNS:-20}
start_registry
tiny_image true sh

"$ctr" --root "$work/ours" system start >/dev/null
ours_sock="$work/ours/run/container/docker.sock"
podman_sock="$work/podman.sock"
$piso --runtime runc system service --time 0 "unix://$podman_sock" >/dev/null 2>&1 &
podman_pid=$!
trap 'kill $podman_pid 2>/dev/null; bench_cleanup' EXIT
for _ in $(seq 100); do [ -S "$podman_sock" ] && break; sleep 0.1; done
export DOCKER_CONFIG="$work/docker-config"
d_ours="env DOCKER_HOST=unix://$ours_sock $docker_cli"
d_podman="env DOCKER_HOST=unix://$podman_sock $docker_cli"

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/run.csv" \
  -n docker-ours "$d_ours run --rm --network none $image true" \
  -n cli-ours "$ctr --root $work/ours run --rm --network none $image true" \
  -n docker-podman "$d_podman run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 $image true" >/dev/null
for n in docker-ours cli-ours docker-podman; do echo "metric docker.run.$n.median $(median_ms "$work/run.csv" $n) ms"; done
ours=$(median_ms "$work/run.csv" docker-ours)
echo "metric docker.run.ratio-cli $(ratio "$ours" "$(median_ms "$work/run.csv" cli-ours)") docker-ours/cli-ours (target <= 1.2)"
echo "metric docker.run.ratio-podman $(ratio "$ours" "$(median_ms "$work/run.csv" docker-podman)") ours/podman (target <= 0.35)"

for i in $(seq 100); do
  $d_ours create --network none "$image" true >/dev/null
  $d_podman create --network none "$image" true >/dev/null
done
hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/ps.csv" \
  -n ps-ours "$d_ours ps -a" -n ps-podman "$d_podman ps -a" >/dev/null
for n in ps-ours ps-podman; do echo "metric docker.ps100.$n.median $(median_ms "$work/ps.csv" $n) ms"; done
echo "metric docker.ps100.ratio-podman $(ratio "$(median_ms "$work/ps.csv" ps-ours)" "$(median_ms "$work/ps.csv" ps-podman)") ours/podman (target <= 0.25)"
