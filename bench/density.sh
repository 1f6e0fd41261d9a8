#!/usr/bin/env bash
# 50 idle containers (`sleep`): memory per container (the per-container
# process that watches it, and that plus the container's own process, PSS)
# against podman's (conmon) and docker's (containerd-shim-runc-v2, a private
# dockerd: bench/lib.sh); and 50 containers started in parallel (`run -d`)
# then removed in parallel (`rm -f`), wall times, in the same run. Needs
# podman, umoci, skopeo, docker-registry, containerd, runc.
source "$(dirname "$0")/lib.sh"
need podman umoci skopeo docker-registry
n=${DENSITY_N:-50}
start_registry
tiny_image sleep sh
start_docker
docker_image
prun="$piso --runtime runc run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# parallel_ms CMD...: runs "CMD... dI" for I in 1..n, all at once; prints the
# wall time in ms. (Waits on these jobs only: a bare `wait` would wait for the
# registry and dockerd too.)
parallel_ms() {
  local t0 i jobs_=()
  t0=$(now_ms)
  for i in $(seq "$n"); do "$@" "d$i" >/dev/null 2>&1 & jobs_+=($!); done
  wait "${jobs_[@]}"
  echo $(( $(now_ms) - t0 ))
}
# A name first, then the image and command: each tool's `run -d --name dI`.
ours_run() { "$ctr" --root "$work/ours" run -d --network none --name "$1" "$image" sleep 3600; }
podman_run() { $prun --name "$1" "$image" sleep 3600; }
docker_run() { $dk run -d --network none --name "$1" "$image" sleep 3600; }

ours_start=$(parallel_ms ours_run)
podman_start=$(parallel_ms podman_run)
docker_start=$(parallel_ms docker_run)
sleep 3

shims=$(pgrep -f "container-shim .*--root $work/ours" | tr '\n' ' ')
sleeps=$(for s in $shims; do pgrep -P "$s"; done | tr '\n' ' ')
conmons=$(pgrep -f "conmon .*$work/podman" | tr '\n' ' ')
psleeps=$(for c in $conmons; do pgrep -P "$c"; done | tr '\n' ' ')
dshims=$(pgrep -f "containerd-shim-runc-v2 .*-address $work/docker/exec" | tr '\n' ' ')
dsleeps=$(for c in $dshims; do pgrep -P "$c"; done | tr '\n' ' ')
count() { echo $#; }
echo "metric density.ours.containers $(count $shims) running"
echo "metric density.podman.containers $(count $conmons) running"
echo "metric density.docker.containers $(count $dshims) running"
echo "metric density.ours.shim_pss $(( $(pss $shims) / n )) KiB/container"
echo "metric density.podman.conmon_pss $(( $(pss $conmons) / n )) KiB/container"
echo "metric density.docker.shim_pss $(( $(pss $dshims) / n )) KiB/container"
echo "metric density.ours.total_pss $(( ($(pss $shims) + $(pss $sleeps)) / n )) KiB/container"
echo "metric density.podman.total_pss $(( ($(pss $conmons) + $(pss $psleeps)) / n )) KiB/container"
echo "metric density.docker.total_pss $(( ($(pss $dshims) + $(pss $dsleeps)) / n )) KiB/container"

ours_rm=$(parallel_ms "$ctr" --root "$work/ours" rm -f)
podman_rm=$(parallel_ms $piso rm -f)
docker_rm=$(parallel_ms $dk rm -f)
for t in ours podman docker; do
  s=${t}_start r=${t}_rm
  echo "metric density.$t.parallel_start ${!s} ms"
  echo "metric density.$t.parallel_rm ${!r} ms"
  echo "metric density.$t.parallel_start_rm $(( ${!s} + ${!r} )) ms"
done
ours=$((ours_start + ours_rm))
echo "metric density.ratio-parallel-start-rm-podman $(ratio "$ours" $((podman_start + podman_rm))) ours/podman (target <= 0.25)"
echo "metric density.ratio-parallel-start-rm-docker $(ratio "$ours" $((docker_start + docker_rm))) ours/docker (target <= 0.5)"
echo "target: shim PSS < 400 KiB; total per container <= podman's"
