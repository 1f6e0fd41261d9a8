#!/usr/bin/env bash
# `container run --rm IMAGE true` (image present, no network) against
# `podman run --rm --network none`, `docker run --rm --network none` (a
# private dockerd, bench/lib.sh) and raw crun and runc runs of a prepared
# bundle, in the same run; ours twice: runtime-linux over crun (the default)
# and over runc (a second root configured so). Prints `metric NAME VALUE
# UNIT` lines and the ratios. Needs podman, hyperfine, umoci, skopeo,
# docker-registry, crun, runc. podman uses runc, because crun refuses this
# kind of host's hybrid cgroups unless a global cgroup mount is changed
# (runtime-linux avoids that per call, and so does the raw crun row, with the
# same private mount namespace).
source "$(dirname "$0")/lib.sh"
need podman hyperfine umoci skopeo docker-registry crun runc jq
runs=${RUNS:-20}
start_registry
tiny_image true sh
start_docker
docker_image
mkdir -p "$work/ours-runc/etc/container"
printf '[plugins.runtime-linux]\noci_runtime = "runc"\n' > "$work/ours-runc/etc/container/config.toml"
"$ctr" --root "$work/ours-runc" image pull --progress none "$image" >/dev/null
# And crun compiling the seccomp profile at each create, as before
# runtime-linux handed it the compiled program (docs/security.md#seccomp).
mkdir -p "$work/ours-compiles/etc/container"
printf '[plugins.runtime-linux]\nprecompile_seccomp = false\n' > "$work/ours-compiles/etc/container/config.toml"
"$ctr" --root "$work/ours-compiles" image pull --progress none "$image" >/dev/null

# Raw bundles with the same root filesystem: crun's default spec running
# true, and ours (the config.json our runtime-linux gave a container created
# here: the same namespaces, mounts, capabilities, seccomp profile and
# limits), with its cgroup a leaf of this run's own, which the runtimes
# remove at each delete.
mkdir -p "$work/bundle/rootfs/bin" && cp /bin/busybox "$work/bundle/rootfs/bin/" && ln -s busybox "$work/bundle/rootfs/bin/true"
(cd "$work/bundle" && crun spec && sed -i 's/"sh"/"true"/; s/"terminal": true/"terminal": false/' config.json)
spec_id=$("$ctr" --root "$work/ours" create --network none --name spec "$image" true)
mkdir -p "$work/ours-bundle"
jq --arg r "$work/bundle/rootfs" --arg cg "/container-bench-raw-$$" \
  '.root.path = $r | .process.terminal = false | .process.args = ["true"] | .linux.cgroupsPath = $cg' \
  "$work/ours/var/lib/container/containers/$spec_id/config.json" > "$work/ours-bundle/config.json"
"$ctr" --root "$work/ours" rm spec >/dev/null
in_private_ns() { echo "unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec $1'"; }
raw_crun_default=$(in_private_ns "crun --root $work/crun run --bundle $work/bundle bench-\$\$")
raw_crun=$(in_private_ns "crun --root $work/crun run --bundle $work/ours-bundle bench-\$\$")
raw_runc="runc --root $work/runc run --bundle $work/ours-bundle bench-\$\$"

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/start.csv" \
  -n ours "$ctr --root $work/ours run --rm --network none $image true" \
  -n ours-runc "$ctr --root $work/ours-runc run --rm --network none $image true" \
  -n ours-crun-compiles "$ctr --root $work/ours-compiles run --rm --network none $image true" \
  -n podman-runc-none "$piso --runtime runc run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 $image true" \
  -n docker-none "$dk run --rm --network none $image true" \
  -n raw-crun "sh -c \"$raw_crun\"" \
  -n raw-runc "sh -c \"$raw_runc\"" \
  -n raw-crun-default-spec "sh -c \"$raw_crun_default\"" >/dev/null
for n in ours ours-runc ours-crun-compiles podman-runc-none docker-none raw-crun raw-runc raw-crun-default-spec; do
  echo "metric start.$n.median $(median_ms "$work/start.csv" $n) ms"
done
m() { median_ms "$work/start.csv" "$1"; }
echo "metric start.ratio-podman $(ratio "$(m ours)" "$(m podman-runc-none)") ours/podman (target <= 0.3)"
echo "metric start.ratio-docker $(ratio "$(m ours)" "$(m docker-none)") ours/docker"
echo "metric start.ratio-raw-crun $(ratio "$(m ours)" "$(m raw-crun)") ours/crun, the same bundle (target <= 1.5)"
echo "metric start.ratio-precompiled-seccomp $(ratio "$(m ours)" "$(m ours-crun-compiles)") ours/ours with crun compiling seccomp at each create"
echo "metric start.ratio-raw-runc $(ratio "$(m ours-runc)" "$(m raw-runc)") ours-on-runc/runc, the same bundle (target <= 1.5)"
echo "metric start.ratio-raw-crun-default-spec $(ratio "$(m ours)" "$(m raw-crun-default-spec)") ours/crun with crun's default spec (no seccomp)"
