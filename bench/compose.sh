#!/usr/bin/env bash
# `compose up -d` then `down` of a five-service file (one network, busybox
# services), ours against podman-compose (Debian's, driving an isolated
# podman on runc) with the same file, in the same run. Prints `metric NAME
# VALUE UNIT` lines and the ratio. podman's CNI makes a bridge and
# iptables-nft tables for the project's network: the ones that were not there
# before the run are removed after it.
source "$(dirname "$0")/lib.sh"
need podman podman-compose hyperfine umoci skopeo docker-registry
runs=${RUNS:-10}
mkdir -p "$work/ours/etc/container" "$work/proj"
printf '[network]\nsubnet_pool = "10.198.0.0/16"\n' > "$work/ours/etc/container/config.toml"
start_registry
tiny_image sleep sh
links_before=$(ip -br link | awk '{print $1}' | sort)
nat_existed=0 filter_existed=0
nft list table ip nat >/dev/null 2>&1 && nat_existed=1
nft list table ip filter >/dev/null 2>&1 && filter_existed=1
compose_cleanup() {
  bench_cleanup
  for l in $(comm -13 <(echo "$links_before") <(ip -br link | awk '{print $1}' | sort)); do
    case "$l" in cni-podman*) ip link del "$l" 2>/dev/null ;; esac
  done
  [ "$nat_existed" = 0 ] && nft delete table ip nat 2>/dev/null
  [ "$filter_existed" = 0 ] && nft delete table ip filter 2>/dev/null
  true
}
trap compose_cleanup EXIT

# KILL as the stop signal: sleep as PID 1 ignores TERM, and neither side
# should be timed waiting for a grace period. The ulimits keep podman within
# this host's hard limits (root lacks CAP_SYS_RESOURCE).
{
  echo "services:"
  for i in 1 2 3 4 5; do
    cat <<YAML
  s$i:
    image: $image
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    ulimits: {nofile: {soft: 1024, hard: 1024}, nproc: {soft: 4096, hard: 4096}}
YAML
  done
} > "$work/proj/compose.yaml"
pargs="--root $work/podman/graph --runroot $work/podman/run --tmpdir $work/podman/tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime runc"
ours="$ctr --root $work/ours compose -p bench -f $work/proj/compose.yaml"
theirs="podman-compose --podman-args '$pargs' -p bench -f $work/proj/compose.yaml"

# Once each outside the timing: the daemon is up, podman's storage is made.
$ours up -d >/dev/null 2>&1 && $ours down >/dev/null 2>&1
eval "$theirs up -d" >/dev/null 2>&1 && eval "$theirs down" >/dev/null 2>&1

hyperfine --warmup 1 --runs "$runs" --export-csv "$work/compose.csv" \
  -n ours "$ours up -d >/dev/null 2>&1 && $ours down >/dev/null 2>&1" \
  -n podman-compose "$theirs up -d >/dev/null 2>&1 && $theirs down >/dev/null 2>&1" >/dev/null
for n in ours podman-compose; do echo "metric compose.up-down.$n.median $(median_ms "$work/compose.csv" $n) ms"; done
echo "metric compose.up-down.ratio-podman $(ratio "$(median_ms "$work/compose.csv" ours)" "$(median_ms "$work/compose.csv" podman-compose)") ours/podman-compose (target <= 0.5)"
