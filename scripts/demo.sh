#!/usr/bin/env bash
# The main job, end to end, on a fresh build: makes an OCI image from
# Debian's busybox-static, serves it from a registry on loopback (Debian's
# docker-registry), then `container run` pulls it, runs it, and shows its
# output. Everything lives in a throwaway root and is removed at the end.
# Needs root (namespaces, overlay mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
ctr="$PWD/$build/host/container"
work=$(mktemp -d /tmp/container-demo-XXXXXX)
registry_pid=""
cleanup() {
  local daemon
  daemon=$(cat "$work/root/run/container/apiserver.pid" 2>/dev/null || true)
  # --all: its containers stop and the default network (bridge, rules) goes.
  "$ctr" --root "$work/root" system stop --all >/dev/null 2>&1 || true
  # It closes its database after its socket goes: let it finish before the rm.
  # A zombie has ended once it has no other thread left (task/ lists them).
  for _ in $(seq 100); do
    [ -n "$daemon" ] && [ -e "/proc/$daemon" ] || break
    grep -q '^State:.*Z' "/proc/$daemon/status" 2>/dev/null && [ "$(ls "/proc/$daemon/task" 2>/dev/null | wc -l)" -le 1 ] && break
    sleep 0.05
  done
  # wait reports the kill (143); under set -e that would skip the rm below.
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port for the registry.
port=$((40000 + RANDOM % 20000))
while ss -ltn | grep -q ":$port "; do port=$((40000 + RANDOM % 20000)); done
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!

echo "== building an image from Debian's busybox-static"
(
  cd "$work"
  umoci init --layout layout >/dev/null
  umoci new --image layout:hello >/dev/null
  umoci unpack --image layout:hello bundle >/dev/null 2>&1
  mkdir -p bundle/rootfs/bin bundle/rootfs/etc
  cp /bin/busybox bundle/rootfs/bin/
  for applet in sh echo hostname ls grep cat id uname; do ln -s busybox "bundle/rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > bundle/rootfs/etc/passwd
  umoci repack --image layout:hello bundle >/dev/null
  umoci config --image layout:hello --config.cmd /bin/sh --config.env PATH=/bin >/dev/null
)
for _ in $(seq 100); do ss -ltn | grep -q ":$port " && break; sleep 0.05; done
skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:hello" "docker://127.0.0.1:$port/demo/hello:1"

echo "== container run 127.0.0.1:$port/demo/hello:1"
"$ctr" --root "$work/root" run --rm --progress plain "127.0.0.1:$port/demo/hello:1" \
  sh -c 'echo "Hello from $(hostname), a container: PID $$, $(ls /proc | grep -c "^[0-9]") process(es) in sight, kernel $(uname -r)."'

echo
echo "== the plugins that did it"
"$ctr" --root "$work/root" system plugin ls
