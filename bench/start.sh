#!/usr/bin/env bash
# `container run --rm IMAGE true` (image present, no network) against
# `podman run --rm --network none` and a raw crun run of a prepared bundle,
# in the same run. Prints `metric NAME VALUE UNIT` lines and the ratios.
# Needs podman and hyperfine. Touches no host state: both tools use throwaway
# roots; podman uses runc, because crun refuses this host's hybrid cgroups
# unless a global cgroup mount is changed (runtime-linux avoids that per call,
# and so does the raw crun row, with the same private-mount-namespace trick).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
runs=${RUNS:-20}
for tool in podman hyperfine umoci skopeo docker-registry; do
  command -v "$tool" >/dev/null || { echo "bench/start.sh: needs $tool" >&2; exit 2; }
done
work=$(mktemp -d /tmp/container-bench-start-XXXXXX)
ours="$PWD/$build/host/container --root $work/ours"
piso="podman --root $work/podman/graph --runroot $work/podman/run --tmpdir $work/podman/tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"
registry_pid=""
cleanup() {
  $ours system stop >/dev/null 2>&1 || true
  $piso rm -af >/dev/null 2>&1 || true
  $piso rmi -af >/dev/null 2>&1 || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  awk -v p="$work" '$2 ~ "^"p {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port=$((40000 + RANDOM % 20000))
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' "$work" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry_pid=$!
(
  cd "$work"
  umoci init --layout L >/dev/null && umoci new --image L:t >/dev/null && umoci unpack --image L:t B >/dev/null 2>&1
  mkdir -p B/rootfs/bin && cp /bin/busybox B/rootfs/bin/ && ln -s busybox B/rootfs/bin/true && ln -s busybox B/rootfs/bin/sh
  umoci repack --image L:t B >/dev/null && umoci config --image L:t --config.cmd /bin/true >/dev/null
)
for _ in $(seq 100); do ss -ltn | grep -q ":$port " && break; sleep 0.05; done
image="127.0.0.1:$port/bench/tiny:1"
skopeo copy --quiet --dest-tls-verify=false "oci:$work/L:t" "docker://$image"
$ours image pull --progress none "$image" >/dev/null
$piso pull -q --tls-verify=false "$image" >/dev/null

# A raw crun bundle: the same rootfs, crun's default spec running true.
mkdir -p "$work/bundle" && cp -a "$work/B/rootfs" "$work/bundle/rootfs"
(cd "$work/bundle" && crun spec && sed -i 's/"sh"/"true"/; s/"terminal": true/"terminal": false/' config.json)
crun_legacy="unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root $work/crun run --bundle $work/bundle bench-\$\$'"

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/start.csv" \
  -n ours "$ours run --rm $image true" \
  -n podman-runc-none "$piso --runtime runc run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 $image true" \
  -n raw-crun "sh -c \"$crun_legacy\"" > "$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log" >&2; exit 1; }
awk -F, 'NR>1 {printf "metric start.%s.median %.1f ms\n", $1, $4*1000}' "$work/start.csv"
ours_ms=$(awk -F, '$1=="ours" {print $4}' "$work/start.csv")
pod_ms=$(awk -F, '$1=="podman-runc-none" {print $4}' "$work/start.csv")
crun_ms=$(awk -F, '$1=="raw-crun" {print $4}' "$work/start.csv")
awk -v a="$ours_ms" -v b="$pod_ms" 'BEGIN {printf "metric start.ratio-podman %.3f ours/podman (target <= 0.3)\n", a/b}'
awk -v a="$ours_ms" -v b="$crun_ms" 'BEGIN {printf "metric start.ratio-raw-crun %.2f ours/crun (target <= 2.5)\n", a/b}'
