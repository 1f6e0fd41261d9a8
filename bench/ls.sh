#!/usr/bin/env bash
# CLI round trip of `container ls -a` with 0 and 100 containers in the store,
# against `podman ps -a` and `docker ps -a` (a private dockerd, bench/lib.sh)
# with the same counts, in the same run. Needs podman, hyperfine, containerd
# and runc; every tool works on a throwaway root.
source "$(dirname "$0")/lib.sh"
need podman hyperfine
runs=${RUNS:-30}
piso="${piso/overlay/vfs}"  # podman creates containers here without mounting anything

# A tiny image for podman: a busybox root filesystem.
mkdir -p "$work/rootfs/bin" && cp /bin/busybox "$work/rootfs/bin/" && ln -s busybox "$work/rootfs/bin/true"
tar -C "$work/rootfs" -c . | $piso import - localhost/bench:1 >/dev/null 2>&1

start_docker
tar -C "$work/rootfs" -c . | $dk import - bench:1 >/dev/null
"$ctr" --root "$work/ours" system start >/dev/null
measure() {  # NAME COMMAND
  hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/$1.csv" -n "$1" "$2" >/dev/null 2>&1
  median_ms "$work/$1.csv" "$1"
}
ours0=$(measure ours-0 "$ctr --root $work/ours ls -a")
pod0=$(measure podman-0 "$piso ps -a")
dk0=$(measure docker-0 "$dk ps -a")
"$PWD/$build/bench/seed-containers" "$work/ours" 100
for i in $(seq 1 100); do $piso create --name "bench-$i" localhost/bench:1 true >/dev/null; done
for i in $(seq 1 100); do $dk create --network none --name "bench-$i" bench:1 true >/dev/null; done
ours100=$(measure ours-100 "$ctr --root $work/ours ls -a")
pod100=$(measure podman-100 "$piso ps -a")
dk100=$(measure docker-100 "$dk ps -a")
echo "metric ls.ours-0.median $ours0 ms"
echo "metric ls.podman-0.median $pod0 ms"
echo "metric ls.ours-100.median $ours100 ms"
echo "metric ls.podman-100.median $pod100 ms"
echo "metric ls.docker-0.median $dk0 ms"
echo "metric ls.docker-100.median $dk100 ms"
echo "metric ls.ratio-0 $(ratio "$ours0" "$pod0") ours/podman (target <= 0.25)"
echo "metric ls.ratio-100 $(ratio "$ours100" "$pod100") ours/podman (target <= 0.25)"
echo "metric ls.ratio-docker-0 $(ratio "$ours0" "$dk0") ours/docker"
echo "metric ls.ratio-docker-100 $(ratio "$ours100" "$dk100") ours/docker"
