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
docker_pid=""
piso="podman --root $work/podman/graph --runroot $work/podman/run --tmpdir $work/podman/tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"

# podman (cgroupfs manager) makes libpod_parent in each cgroup hierarchy
# and leaves it; removed at the end when it was not there before (empty
# cgroups only: rmdir refuses one with processes).
libpod_parent_before=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null | head -1 || true)

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
  stop_docker
  if [ -z "$libpod_parent_before" ]; then
    find /sys/fs/cgroup/*/libpod_parent -depth -type d -exec rmdir {} \; 2>/dev/null || true
  fi
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

# pss PID...: the sum of their proportional set sizes, in KiB.
pss() {  # sum of PSS (KiB) of the given pids
  local sum=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/{print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# median_ms CSV NAME: hyperfine's median (column 4), in ms.
median_ms() { awk -F, -v n="$2" '$1==n {printf "%.1f", $4 * 1000}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

# docker as a peer: Debian's docker.io daemon, taken out of the package (as
# scripts/install-deps.sh takes its client) rather than installed, so that
# nothing starts it at boot; run on a private data root, exec root and socket,
# with its own containerd under them, no bridge, no iptables rules, and its
# containers' cgroups under a parent of this run's own. Sets $dk, the client
# command. bench_cleanup stops it and removes what it made.
docker_cache=/var/cache/container-tests/docker
docker_cgroup=container-bench-docker-$$
start_docker() {
  if [ ! -x "$docker_cache/dockerd" ] || [ ! -x "$docker_cache/docker" ]; then
    local x="$work/docker-deb"
    mkdir -p "$x" "$docker_cache"
    (cd "$x" && apt-get download -q docker.io 2>&1 | grep -v 'unsandboxed' || true)
    dpkg-deb -x "$x"/docker.io_*.deb "$x/root"
    install -m 0755 "$x/root/usr/bin/docker" "$docker_cache/docker"
    install -m 0755 "$x/root/usr/sbin/dockerd" "$docker_cache/dockerd"
    rm -rf "$x"
  fi
  need containerd runc
  mkdir -p "$work/docker"
  echo '{}' > "$work/docker/daemon.json"
  "$docker_cache/dockerd" --config-file "$work/docker/daemon.json" -H "unix://$work/docker/docker.sock" \
    --data-root "$work/docker/data" --exec-root "$work/docker/exec" --pidfile "$work/docker/docker.pid" \
    --bridge none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
    --cgroup-parent "/$docker_cgroup" --storage-driver overlay2 --log-level error >"$work/docker/dockerd.log" 2>&1 &
  docker_pid=$!
  dk="$docker_cache/docker -H unix://$work/docker/docker.sock"
  local _
  for _ in $(seq 300); do $dk version >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: dockerd did not start:" >&2; tail -5 "$work/docker/dockerd.log" >&2; exit 1
}

stop_docker() {
  [ -n "$docker_pid" ] || return 0
  local ids
  ids=$($dk ps -aq 2>/dev/null || true)
  [ -n "$ids" ] && $dk rm -f $ids >/dev/null 2>&1
  kill "$docker_pid" 2>/dev/null
  wait "$docker_pid" 2>/dev/null || true
  docker_pid=""
  local d
  for d in /sys/fs/cgroup/*/"$docker_cgroup" /sys/fs/cgroup/unified/"$docker_cgroup"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  return 0
}

# docker_image: pulls $image (set by tiny_image) into docker from the loopback
# registry (docker treats 127.0.0.0/8 registries as insecure by default).
docker_image() { $dk pull -q "$image" >/dev/null; }
