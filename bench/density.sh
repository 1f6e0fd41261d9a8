#!/usr/bin/env bash
# 50 idle containers (`sleep`): memory per container (shim PSS and the whole
# process tree's PSS) against podman's (conmon), and 50 containers started in
# parallel, wall time against podman's, in the same run. Needs podman,
# hyperfine, umoci, skopeo, docker-registry.
source "$(dirname "$0")/lib.sh"
need podman umoci skopeo docker-registry
n=${DENSITY_N:-50}
start_registry
tiny_image sleep sh
prun="$piso --runtime runc run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

pss() {  # sum of PSS (KiB) of the given pids
  local sum=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/{print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# 50 started in parallel.
# (wait on these jobs only: a bare `wait` would wait for the registry too)
t0=$(now_ms)
jobs_=()
for i in $(seq "$n"); do timeout 120 "$ctr" --root "$work/ours" run -d --network none --name "d$i" "$image" sleep 3600 >/dev/null & jobs_+=($!); done
wait "${jobs_[@]}"
ours_ms=$(( $(now_ms) - t0 ))
t0=$(now_ms)
jobs_=()
for i in $(seq "$n"); do timeout 120 $prun --name "d$i" "$image" sleep 3600 >/dev/null 2>&1 & jobs_+=($!); done
wait "${jobs_[@]}"
podman_ms=$(( $(now_ms) - t0 ))
sleep 3

shims=$(pgrep -f "container-shim .*--root $work/ours" | tr '\n' ' ')
sleeps=$(for s in $shims; do pgrep -P "$s"; done | tr '\n' ' ')
conmons=$(pgrep -f "conmon .*$work/podman" | tr '\n' ' ')
psleeps=$(for c in $conmons; do pgrep -P "$c"; done | tr '\n' ' ')
count() { echo $#; }
echo "metric density.ours.containers $(count $shims) running"
echo "metric density.podman.containers $(count $conmons) running"
echo "metric density.ours.shim_pss $(( $(pss $shims) / n )) KiB/container"
echo "metric density.podman.conmon_pss $(( $(pss $conmons) / n )) KiB/container"
echo "metric density.ours.total_pss $(( ($(pss $shims) + $(pss $sleeps)) / n )) KiB/container"
echo "metric density.podman.total_pss $(( ($(pss $conmons) + $(pss $psleeps)) / n )) KiB/container"
echo "metric density.ours.parallel_start $ours_ms ms"
echo "metric density.podman.parallel_start $podman_ms ms"
echo "metric density.ratio-parallel-start $(ratio "$ours_ms" "$podman_ms") ours/podman (target <= 0.3)"
echo "target: shim PSS < 400 KiB; total per container <= podman's"
