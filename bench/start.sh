#!/usr/bin/env bash
# `container run --rm IMAGE true` (image present, no network) against
# `podman run --rm --network none` and a raw crun run of a prepared bundle,
# in the same run. Prints `metric NAME VALUE UNIT` lines and the ratios.
# Needs podman, hyperfine, umoci, skopeo, docker-registry. Touches no host
# state: podman uses runc, because crun refuses this kind of host's hybrid
# cgroups unless a global cgroup mount is changed (runtime-linux avoids that
# per call, and so does the raw crun row, with the same private mount
# namespace).
source "$(dirname "$0")/lib.sh"
need podman hyperfine umoci skopeo docker-registry crun
runs=${RUNS:-20}
start_registry
tiny_image true sh

# A raw crun bundle: the same root filesystem, crun's default spec running true.
mkdir -p "$work/bundle/rootfs/bin" && cp /bin/busybox "$work/bundle/rootfs/bin/" && ln -s busybox "$work/bundle/rootfs/bin/true"
(cd "$work/bundle" && crun spec && sed -i 's/"sh"/"true"/; s/"terminal": true/"terminal": false/' config.json)
crun_legacy="unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root $work/crun run --bundle $work/bundle bench-\$\$'"

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/start.csv" \
  -n ours "$ctr --root $work/ours run --rm --network none $image true" \
  -n podman-runc-none "$piso --runtime runc run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 $image true" \
  -n raw-crun "sh -c \"$crun_legacy\"" >/dev/null
for n in ours podman-runc-none raw-crun; do echo "metric start.$n.median $(median_ms "$work/start.csv" $n) ms"; done
ours=$(median_ms "$work/start.csv" ours)
echo "metric start.ratio-podman $(ratio "$ours" "$(median_ms "$work/start.csv" podman-runc-none)") ours/podman (target <= 0.3)"
echo "metric start.ratio-raw-crun $(ratio "$ours" "$(median_ms "$work/start.csv" raw-crun)") ours/crun (target <= 2.5)"
