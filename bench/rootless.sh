#!/usr/bin/env bash
# Rootless start (docs/rootless.md): `container run --rm --network none IMAGE
# true` as an ordinary user (made for the run with a /etc/subuid range,
# removed after) against `podman run --rm --network none` rootless as the same
# user with the same image, and against our root mode, in one run. Prints
# `metric NAME VALUE UNIT` lines and the ratios (targets: at most 0.35x
# podman's, within 1.5x of our root mode). Both rootless rows start through
# setpriv (about a millisecond). podman runs runc: crun refuses this kind of
# host's hybrid cgroups (our rootless daemon covers the cgroup2 mount in its
# own mount namespace; podman has no such step). The build tree must be
# readable by other users.
source "$(dirname "$0")/lib.sh"
need podman hyperfine umoci skopeo docker-registry setpriv useradd userdel
runs=${RUNS:-20}
user=ctrbench$$
chmod 0755 "$work"
home="$work/home"
rootless_cleanup() {
  if id "$user" >/dev/null 2>&1; then
    as_user "$ctr" rm -a -f >/dev/null 2>&1 || true
    as_user "$ctr" system stop >/dev/null 2>&1 || true
    as_user podman rm -af >/dev/null 2>&1 || true
    as_user podman system reset -f >/dev/null 2>&1 || true
    local pid
    for pid in $(ps -u "$user" -o pid= 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    sleep 0.2
    userdel -r "$user" >/dev/null 2>&1 || true
    sed -i "/^$user:/d" /etc/subuid /etc/subgid
  fi
  bench_cleanup
}
trap rootless_cleanup EXIT
as_user() { setpriv --reuid "$user" --regid "$user" --init-groups --reset-env "$@"; }

useradd -m -d "$home" -s /bin/sh "$user"
grep -q "^$user:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$user"
as_user test -x "$ctr" || { echo "bench: $user cannot run $ctr: the build tree must be readable by other users" >&2; exit 2; }
start_registry
tiny_image true
as_user "$ctr" image pull --progress none "$image" >/dev/null
as_user podman pull -q --tls-verify=false "$image" >/dev/null
# The first run of each starts what it keeps (our daemon, podman's pause process).
as_user "$ctr" run --rm --network none "$image" true
as_user podman --runtime runc run --rm --network none "$image" true

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/rootless.csv" \
  -n ours-rootless "setpriv --reuid $user --regid $user --init-groups --reset-env $ctr run --rm --network none $image true" \
  -n podman-rootless "setpriv --reuid $user --regid $user --init-groups --reset-env podman --runtime runc run --rm --network none $image true" \
  -n ours-root "$ctr --root $work/ours run --rm --network none $image true" >/dev/null
for n in ours-rootless podman-rootless ours-root; do
  echo "metric rootless.$n.median $(median_ms "$work/rootless.csv" $n) ms"
done
m() { median_ms "$work/rootless.csv" "$1"; }
echo "metric rootless.ratio-podman $(ratio "$(m ours-rootless)" "$(m podman-rootless)") ours/podman, both rootless (target <= 0.35)"
echo "metric rootless.ratio-root $(ratio "$(m ours-rootless)" "$(m ours-root)") rootless/root, ours (target <= 1.5)"
