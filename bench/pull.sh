#!/usr/bin/env bash
# `container image pull` of a ~100 MiB three-layer image from a loopback
# registry, cold each time (a fresh root: once with the daemon's start in
# the figure, once into a daemon already running, as a user's pulls mostly
# are; each run after a sync, so that one tool's writes are not flushed on
# another's time), against `podman pull` (overlay storage) and
# `skopeo copy` + `umoci unpack`, plus this host's untar floor (tar -x of the
# three uncompressed layers), in the same run. Needs podman, skopeo, umoci,
# hyperfine, docker-registry.
source "$(dirname "$0")/lib.sh"
need podman skopeo umoci hyperfine docker-registry
runs=${RUNS:-5}
start_registry
# Layer 1: busybox and 4000 small files; 2: 40 MiB random; 3: 40 MiB of text.
push_image medium \
  'mkdir -p bin etc data && cp /bin/busybox bin/ && for i in $(seq 4000); do echo "file $i $(date +%N)" > data/f$i; done' \
  'head -c 41943040 /dev/urandom > blob' \
  'for i in $(seq 400000); do echo "2026-11-28T10:00:00 INFO request $i served in $((i % 97)) ms"; done > app.log'
image="$registry/bench/medium:1"
mkdir -p "$work/layers"
for d in $(skopeo inspect --raw --tls-verify=false "docker://$image" | jq -r '.layers[].digest'); do
  curl -s "http://$registry/v2/bench/medium/blobs/$d" | gzip -dc > "$work/layers/${d#sha256:}.tar"
done

# Every run writes into a directory of its own. On ext4 nothing is deleted
# until the end: a tree removed just before a run makes the next one's
# inode allocations skip the recently freed inodes one by one, which turned
# the same tar -x from 0.15 s into 1.7 s here. On a tmpfs what the runs
# before wrote is removed before each run: kept, it made each tool slower
# than the one before it (the same pull: 200 ms first, 390 ms after a dozen
# kept copies), so that the order of the tools showed in their figures.
# `prepare [start]`: stops the daemon of the run before, removes what the
# runs before wrote (tmpfs only), moves to the next run's directories,
# syncs, and with `start` starts a daemon on the new root.
echo 0 > "$work/n"
{
  echo '#!/bin/sh'
  echo "n=\$(cat $work/n)"
  echo "$ctr --root $work/ours-\$n system stop >/dev/null 2>&1"
  [ -n "${BENCH_IN_NS:-}" ] && echo "rm -rf $work/ours-* $work/podman-[0-9]* $work/oci-* $work/bundle-* $work/untar-*"
  echo "echo \$((n + 1)) > $work/n"
  echo "sync"
  echo "[ \"\${1:-}\" = start ] && $ctr --root $work/ours-\$((n + 1)) system start >/dev/null 2>&1"
  echo "exit 0"
} > "$work/prepare"
chmod +x "$work/prepare"
n='$(cat '"$work"'/n)'
pod="podman --root $work/podman-$n/graph --runroot $work/podman-$n/run --tmpdir $work/podman-tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"
mkdir -p "$work/podman-tmp"
hyperfine -N --runs "$runs" --export-csv "$work/pull.csv" \
  --prepare "$work/prepare" -n podman-overlay "sh -c \"$pod pull -q --tls-verify=false $image >/dev/null\"" \
  --prepare "$work/prepare" \
  -n ours "sh -c \"$ctr --root $work/ours-$n image pull --progress none $image >/dev/null\"" \
  --prepare "$work/prepare start" \
  -n ours-running-daemon "sh -c \"$ctr --root $work/ours-$n image pull --progress none $image >/dev/null\"" \
  --prepare "$work/prepare" \
  -n skopeo-umoci "sh -c \"skopeo copy --quiet --src-tls-verify=false docker://$image oci:$work/oci-$n:t && umoci unpack --image $work/oci-$n:t $work/bundle-$n >/dev/null\"" \
  --prepare "$work/prepare" \
  -n floor-untar "sh -c \"mkdir -p $work/untar-$n && for l in $work/layers/*.tar; do tar -xf \\\$l -C $work/untar-$n; done\"" >/dev/null
for n in ours ours-running-daemon podman-overlay skopeo-umoci floor-untar; do echo "metric pull.$n.median $(median_ms "$work/pull.csv" $n) ms"; done
ours=$(median_ms "$work/pull.csv" ours)
echo "metric pull.speedup-vs-podman $(ratio "$(median_ms "$work/pull.csv" podman-overlay)" "$ours") x (target >= 1.5)"
echo "metric pull.speedup-vs-skopeo-umoci $(ratio "$(median_ms "$work/pull.csv" skopeo-umoci)" "$ours") x"
floor=$(median_ms "$work/pull.csv" floor-untar)
echo "metric pull.ratio-untar-floor $(ratio "$ours" "$floor") ours/floor, the daemon's start included (target <= 1.15)"
echo "metric pull.ratio-untar-floor-running-daemon $(ratio "$(median_ms "$work/pull.csv" ours-running-daemon)" "$floor") ours/floor, into a running daemon (target <= 1.15)"
