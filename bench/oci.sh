#!/usr/bin/env bash
# podman run --rm IMAGE true through container-oci (runtime-linux) against
# podman through runc and through crun, in the same run: the cost of our
# runc-compatible front over the OCI runtime it drives. Prints `metric NAME
# VALUE UNIT` lines and the ratio (target: within 1.1x of crun through the
# same engine). Touches no host state: crun and container-oci run through
# wrappers, crun's in a private mount namespace without the hybrid
# unified mount (as runtime-linux runs it per call), container-oci's with a
# --root of the run's own.
source "$(dirname "$0")/lib.sh"
need podman hyperfine umoci skopeo docker-registry crun runc
runs=${RUNS:-20}
start_registry
tiny_image true sh

oci="$PWD/$build/host/container-oci"
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$oci" "$work/oci-root" > "$work/container-oci"
printf '#!/bin/sh\nexec unshare -m --propagation private sh -c '"'"'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"'"'"' crun "$@"\n' > "$work/crun"
chmod +x "$work/container-oci" "$work/crun"
limits="--ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/oci.csv" \
  -n podman-container-oci "$piso --runtime $work/container-oci run --rm --network none $limits $image true" \
  -n podman-crun "$piso --runtime $work/crun run --rm --network none $limits $image true" \
  -n podman-runc "$piso --runtime runc run --rm --network none $limits $image true" >/dev/null
for n in podman-container-oci podman-crun podman-runc; do echo "metric oci.$n.median $(median_ms "$work/oci.csv" $n) ms"; done
ours=$(median_ms "$work/oci.csv" podman-container-oci)
echo "metric oci.ratio-crun $(ratio "$ours" "$(median_ms "$work/oci.csv" podman-crun)") container-oci/crun through podman (target <= 1.1)"
echo "metric oci.ratio-runc $(ratio "$ours" "$(median_ms "$work/oci.csv" podman-runc)") container-oci/runc through podman"
