#!/usr/bin/env bash
# CLI round trip of `container ls -a` with 0 and 100 containers in the store,
# against `podman ps -a` with the same counts, in the same run.
# Prints `metric NAME VALUE UNIT` lines and the ratios. Needs podman and
# hyperfine (apt-get install podman hyperfine); touches no host state: both
# tools work on throwaway roots.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
runs=${RUNS:-30}
for tool in podman hyperfine; do
  command -v "$tool" >/dev/null || { echo "bench/ls.sh: needs $tool (apt-get install $tool)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/container-bench-ls-XXXXXX)
ours="$build/host/container --root $work/ours"
piso="podman --root $work/podman/graph --runroot $work/podman/run --tmpdir $work/podman/tmp --storage-driver vfs --cgroup-manager cgroupfs --events-backend file"
cleanup() {
  $ours system stop >/dev/null 2>&1 || true
  $piso rm -af >/dev/null 2>&1 || true
  $piso rmi -af >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

median_ms() {  # hyperfine CSV -> median in ms
  awk -F, 'NR==2 {printf "%.2f", $4 * 1000}' "$1"
}
measure() {  # NAME COMMAND
  hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/$1.csv" "$2" >/dev/null 2>&1
  echo "metric ls.$1.median $(median_ms "$work/$1.csv") ms"
}

# A tiny image for podman: a busybox root filesystem.
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
ln -s busybox "$work/rootfs/bin/true"
tar -C "$work/rootfs" -c . | $piso import - localhost/bench:1 >/dev/null 2>&1

$ours system start >/dev/null
out0=$(measure ours-0 "$ours ls -a")
pod0=$(measure podman-0 "$piso ps -a")
"$build/bench/seed-containers" "$work/ours" 100
for i in $(seq 1 100); do $piso create --name "bench-$i" localhost/bench:1 true >/dev/null; done
out100=$(measure ours-100 "$ours ls -a")
pod100=$(measure podman-100 "$piso ps -a")
printf '%s\n%s\n%s\n%s\n' "$out0" "$pod0" "$out100" "$pod100"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
v() { echo "$1" | awk '{print $3}'; }
echo "metric ls.ratio-0 $(ratio "$(v "$out0")" "$(v "$pod0")") ours/podman"
echo "metric ls.ratio-100 $(ratio "$(v "$out100")" "$(v "$pod100")") ours/podman"
echo "target ls ratio <= 0.25 (0 and 100 containers)"
