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

hyperfine -N --runs "$runs" --export-csv "$work/pull.csv" \
  --prepare "sh -c '$piso rmi -af >/dev/null 2>&1; sync'" \
  -n podman-overlay "$piso pull -q --tls-verify=false $image" \
  --prepare "sh -c '$ctr --root $work/ours system stop >/dev/null 2>&1; rm -rf $work/ours; sync'" \
  -n ours "$ctr --root $work/ours image pull --progress none $image" \
  --prepare "sh -c 'rm -rf $work/oci $work/bundle; sync'" \
  -n skopeo-umoci "sh -c 'skopeo copy --quiet --src-tls-verify=false docker://$image oci:$work/oci:t && umoci unpack --image $work/oci:t $work/bundle >/dev/null'" \
  --prepare "sh -c 'rm -rf $work/untar; mkdir -p $work/untar; sync'" \
  -n floor-untar "sh -c 'for l in $work/layers/*.tar; do tar -xf \$l -C $work/untar; done'" >/dev/null
for n in ours podman-overlay skopeo-umoci floor-untar; do echo "metric pull.$n.median $(median_ms "$work/pull.csv" $n) ms"; done
ours=$(median_ms "$work/pull.csv" ours)
echo "metric pull.speedup-vs-podman $(ratio "$(median_ms "$work/pull.csv" podman-overlay)" "$ours") x (target >= 1.5)"
echo "metric pull.speedup-vs-skopeo-umoci $(ratio "$(median_ms "$work/pull.csv" skopeo-umoci)" "$ours") x"
echo "metric pull.ratio-untar-floor $(ratio "$ours" "$(median_ms "$work/pull.csv" floor-untar)") ours/floor (target <= 1.3)"
