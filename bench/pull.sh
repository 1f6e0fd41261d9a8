#!/usr/bin/env bash
# `container image pull` of a ~100 MiB three-layer image from a loopback
# registry, cold each time (each run after a sync, so that one tool's writes
# are not flushed on another's time), against `podman pull` (overlay storage) and
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

# Every run writes into a directory of its own, and nothing is deleted until
# the end: on ext4, a tree removed just before a run makes the next one's
# inode allocations skip the recently freed inodes one by one, which turned
# the same tar -x from 0.15 s into 1.7 s here. Removing in --prepare put that
# on whichever tool ran next.
echo 0 > "$work/n"
next="sh -c 'echo \$((\$(cat $work/n) + 1)) > $work/n; sync'"
n='$(cat '"$work"'/n)'
pod="podman --root $work/podman-$n/graph --runroot $work/podman-$n/run --tmpdir $work/podman-tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"
mkdir -p "$work/podman-tmp"
hyperfine -N --runs "$runs" --export-csv "$work/pull.csv" \
  --prepare "$next" -n podman-overlay "sh -c \"$pod pull -q --tls-verify=false $image >/dev/null\"" \
  --prepare "sh -c '$ctr --root $work/ours-\$(cat $work/n) system stop >/dev/null 2>&1; echo \$((\$(cat $work/n) + 1)) > $work/n; sync'" \
  -n ours "sh -c \"$ctr --root $work/ours-$n image pull --progress none $image >/dev/null\"" \
  --prepare "$next" \
  -n skopeo-umoci "sh -c \"skopeo copy --quiet --src-tls-verify=false docker://$image oci:$work/oci-$n:t && umoci unpack --image $work/oci-$n:t $work/bundle-$n >/dev/null\"" \
  --prepare "$next" \
  -n floor-untar "sh -c \"mkdir -p $work/untar-$n && for l in $work/layers/*.tar; do tar -xf \\\$l -C $work/untar-$n; done\"" >/dev/null
for n in ours podman-overlay skopeo-umoci floor-untar; do echo "metric pull.$n.median $(median_ms "$work/pull.csv" $n) ms"; done
ours=$(median_ms "$work/pull.csv" ours)
echo "metric pull.speedup-vs-podman $(ratio "$(median_ms "$work/pull.csv" podman-overlay)" "$ours") x (target >= 1.5)"
echo "metric pull.speedup-vs-skopeo-umoci $(ratio "$(median_ms "$work/pull.csv" skopeo-umoci)" "$ours") x"
echo "metric pull.ratio-untar-floor $(ratio "$ours" "$(median_ms "$work/pull.csv" floor-untar)") ours/floor (target <= 1.3)"
