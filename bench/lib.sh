# shellcheck shell=bash
# Shared by the benchmark scripts: a throwaway work dir, a registry on a free
# loopback port, an isolated podman, and hyperfine medians. Source it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}
ctr="$PWD/$build/host/container"
# BENCH_TMPFS=1: everything (stores, registry, peers) on a tmpfs, in a mount
# namespace of the run's own, so that figures show the tools' own work and
# not the state of this host's ext4 (whose allocator slows down for minutes
# after large deletes: the same tar -x took 0.15 s or 1.9 s here).
if [ "${BENCH_TMPFS:-0}" = 1 ] && [ -z "${BENCH_IN_NS:-}" ]; then
  exec env BENCH_IN_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
work=$(mktemp -d /tmp/container-bench-XXXXXX)
[ -n "${BENCH_IN_NS:-}" ] && mount -t tmpfs -o size=8g bench "$work"
registry_pid=""
piso="podman --root $work/podman/graph --runroot $work/podman/run --tmpdir $work/podman/tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install $tool)" >&2; exit 2; }
  done
}

bench_cleanup() {
  "$ctr" --root "$work/ours" rm -a -f >/dev/null 2>&1 || true
  for n in $("$ctr" --root "$work/ours" network ls -q 2>/dev/null); do "$ctr" --root "$work/ours" network rm "$n" >/dev/null 2>&1 || true; done
  local r
  for r in "$work"/ours*; do [ -d "$r" ] && { "$ctr" --root "$r" system stop >/dev/null 2>&1 || true; }; done  # a root per run in pull.sh
  $piso rm -af >/dev/null 2>&1 || true
  $piso rmi -af >/dev/null 2>&1 || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  awk -v p="$work" '$2 ~ "^"p {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap bench_cleanup EXIT

# Starts docker-registry on a free loopback port; sets $registry.
start_registry() {
  local port=$((40000 + RANDOM % 20000))
  while ss -ltn | grep -q ":$port "; do port=$((40000 + RANDOM % 20000)); done
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$work" "$port" > "$work/registry.yml"
  docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
  registry_pid=$!
  for _ in $(seq 200); do ss -ltn | grep -q ":$port " && break; sleep 0.05; done
  registry="127.0.0.1:$port"
}

# push_image NAME STEP...: an image with one layer per shell STEP (run in the
# rootfs as $R), pushed as $registry/bench/NAME:1.
push_image() {
  local name=$1 step
  shift
  (
    cd "$work"
    rm -rf "L-$name" B && umoci init --layout "L-$name" >/dev/null && umoci new --image "L-$name:t" >/dev/null
    for step in "$@"; do
      rm -rf B && umoci unpack --image "L-$name:t" B >/dev/null 2>&1
      (cd B/rootfs && R=$PWD && eval "$step")
      umoci repack --image "L-$name:t" B >/dev/null
    done
    rm -rf B
  )
  skopeo copy --quiet --dest-tls-verify=false "oci:$work/L-$name:t" "docker://$registry/bench/$name:1"
}

# tiny_image APPLET...: busybox with these applets, pushed, then pulled by us and
# by podman, so that a run measures starting and not pulling. Sets $image.
tiny_image() {
  local links="" a
  for a in "$@"; do links+=" && ln -s busybox bin/$a"; done
  push_image tiny "mkdir -p bin && cp /bin/busybox bin/$links"
  image="$registry/bench/tiny:1"
  "$ctr" --root "$work/ours" image pull --progress none "$image" >/dev/null
  $piso pull -q --tls-verify=false "$image" >/dev/null
}

# median_ms CSV NAME: hyperfine's median (column 4), in ms.
median_ms() { awk -F, -v n="$2" '$1==n {printf "%.1f", $4 * 1000}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
