#!/usr/bin/env bash
# The second kind of host: Debian's kernel booted under QEMU with cgroup v1
# switched off (cgroup_no_v1=all), as on every current distribution. The
# guest sees this machine's root read-only under a tmpfs (so the same /usr,
# the same build), and runs the integration cases named in guest-cases.txt
# there. Its console comes back here; the test passes when the guest says
# "cgroup2 only" and every case passed.
#
#   tests/guest/run-guest.sh BUILD_DIR [--systemd] [DOCTEST_FILTER]
#
# With --systemd, systemd is the guest's PID 1 (with its system bus) and the
# cases are those of guest-systemd-cases.txt: a host whose cgroups systemd
# manages.
# The kernel is the cloud kernel package install-deps.sh caches (or
# KERNEL_DEB). Without QEMU or that package the test is skipped, by name.
set -euo pipefail
init=
if [ "${2:-}" = --systemd ]; then init=systemd; set -- "$1" "${@:3}"; fi
build=$(realpath "$1")
src=$(realpath "$(dirname "$0")/../..")
cases=$src/tests/guest/guest-cases.txt
[ "$init" = systemd ] && cases=$src/tests/guest/guest-systemd-cases.txt
filter=${2:-$(grep -v '^#' "$cases" | grep . | paste -sd, -)}
deb=${KERNEL_DEB:-$(ls /var/cache/container-tests/kernels/linux-image-*.deb 2>/dev/null | head -1)}
qemu=$(command -v qemu-system-x86_64 || true)
virtiofsd=/usr/lib/qemu/virtiofsd
# A machine without them skips the guest, by name, as doctest skips a case
# (scripts/test.sh lists it; on CI, which has them, a skip fails the run).
for need in "$deb" "$qemu" "$virtiofsd"; do
  if [ -z "$need" ] || [ ! -e "$need" ]; then
    echo "run-guest: needs QEMU, its virtiofsd and the cached kernel package (scripts/install-deps.sh)" >&2
    echo "[doctest] skipped: cgroup2-${init:+$init-}guest (no QEMU or guest kernel here)"
    echo "[doctest] test cases: 1 | 0 passed | 0 failed | 1 skipped"
    exit 0
  fi
done

# In the build tree, which the guest sees (its /tmp is its own).
work=$(mktemp -d "$build/guest.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_GUEST:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

dpkg-deb -x "$deb" "$work/kernel"
moddir=$(ls -d "$work"/kernel/lib/modules/*)
version=$(basename "$moddir")
# What the integration cases need that this kernel builds as modules: the
# shared root, overlay, veth/bridge networks, nftables with NAT, tun, and
# dummy (the guest's stand-in for a host's network interface).
python3 "$src/tests/guest/make_initramfs.py" "$work/initramfs" "$build/tests/guest-init" "$moddir" \
  virtio_mmio virtiofs overlay veth bridge br_netfilter tun dummy net/netfilter/ net/ipv4/netfilter/ net/ipv6/netfilter/ >/dev/null

# What the guest script reads: where things are, the filter, the environment
# meson gave this test (CTR_* and friends).
{
  printf 'build=%q\nsrc=%q\nfilter=%q\nmodules=%q\nversion=%q\n' "$build" "$src" "$filter" "$moddir" "$version"
  env | grep -E '^(CTR_|CONTAINER_)' | grep -v '^CONTAINER_PLUGIN_PROBE_TIMEOUT_MS=' | sed 's/^/export /; s/=\(.*\)$/=\x27\1\x27/'
  # The suite's 3 s deadline for a plugin's init (quick to fail the fixture
  # that hangs, which the guest does not run) is too short under emulation,
  # several times slower, with the daemon's plugins starting side by side.
  echo "export CONTAINER_PLUGIN_PROBE_TIMEOUT_MS=20000"
} > "$work/guest.env"

mem=3G
# As runtime-microvm does: the TSC's rate from the host, so that the guest
# does not calibrate it under emulation (which can stall its boot).
tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
# A kernel whose CPUs lock up (seen once on CI: both emulated CPUs spinning
# in the kernel, in crun and container-shim, until the 1500 s timeout)
# panics after two minutes of it with every CPU's stack on the console
# (loglevel 5 shows the traces: one warning level below them), and the
# guest then boots once more, rather than eating the run's time.
watchdog="watchdog_thresh=60 softlockup_panic=1 softlockup_all_cpu_backtrace=1"
boot() {
  # virtiofsd serves one VM: one per boot.
  rm -f "$work/vfs.sock"
  "$virtiofsd" --socket-path="$work/vfs.sock" -o source=/ -o sandbox=chroot -o cache=auto -o xattr >>"$work/virtiofsd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$work/vfs.sock" ] && break; sleep 0.05; done
  timeout 1500 "$qemu" -nodefaults -no-user-config -nographic -no-reboot \
    -machine microvm,memory-backend=mem -accel tcg,thread=multi -cpu max -smp 2 -m $mem \
    -object memory-backend-memfd,id=mem,size=$mem,share=on \
    -kernel "$work/kernel/boot/vmlinuz-$version" -initrd "$work/initramfs" \
    -append "console=ttyS0 reboot=t panic=-1 loglevel=5 $watchdog rdinit=/init tsc_early_khz=${tsc_khz:-2400000} cgroup_no_v1=all ctr_script=$src/tests/guest/inside.sh ctr_env=$work/guest.env${init:+ ctr_init=$init}" \
    -global virtio-mmio.force-legacy=false \
    -chardev socket,id=fs,path="$work/vfs.sock" -device vhost-user-fs-device,chardev=fs,tag=host \
    -serial file:"$work/console.log" </dev/null &
  qemu_pid=$!
  pids+=("$qemu_pid")
}
# A boot that says nothing in three minutes is stuck (an emulated CPU can
# hang early): it gets one more try.
run_guest() {
  for attempt in 1 2; do
    boot
    for _ in $(seq 180); do
      grep -q '^guest: cgroup2 only' "$work/console.log" 2>/dev/null && break
      kill -0 "$qemu_pid" 2>/dev/null || break
      sleep 1
    done
    grep -q '^guest: cgroup2 only' "$work/console.log" 2>/dev/null && break
    echo "run-guest: boot $attempt said nothing in 180 s" >&2
    kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null
    cp "$work/console.log" "$work/console.boot$attempt.log" 2>/dev/null
  done
  wait "$qemu_pid" 2>/dev/null || true
}
run_guest
# A lockup's panic ended the guest before its cases did: what it printed
# from the first lockup on (the stacks), then the whole guest once more.
if grep -q 'soft lockup' "$work/console.log" && ! grep -q '^guest: cases ran' "$work/console.log"; then
  echo "run-guest: the guest's kernel locked up; its console from there:"
  tr -d '\r' < "$work/console.log" | sed -n '/soft lockup/,$p' | head -n 200
  cp "$work/console.log" "$work/console.lockup.log"
  echo "run-guest: the guest runs its cases once more"
  run_guest
fi

# The guest's console, with its doctest summary renamed: the totals below
# count its cases once (a -tc filter makes doctest count every other case
# "skipped"; here only the cases a decorator skipped are).
tr -d '\r' < "$work/console.log" | sed 's/^\[doctest\] test cases:/guest: test cases:/' | tee "$work/console.txt"
summary=$(grep '^guest: test cases:' "$work/console.txt" || true)
passed=$(sed -n 's/.*| *\([0-9]*\) passed.*/\1/p' <<<"$summary")
failed=$(sed -n 's/.*| *\([0-9]*\) failed.*/\1/p' <<<"$summary")
skipped=$(grep -c '^\[doctest\] skipped:' "$work/console.txt" || true)
[ -n "$passed" ] && echo "[doctest] test cases: $((passed + failed + skipped)) | $passed passed | $failed failed | $skipped skipped"

# A guest that never ran its cases counts as one failed case in the totals.
failed() { echo "run-guest: $1" >&2; echo "[doctest] test cases: 1 | 0 passed | 1 failed | 0 skipped"; exit 1; }
grep -q '^guest: cgroup2 only' "$work/console.txt" || failed "the guest never said it runs on cgroup2 alone"
if [ "$init" = systemd ]; then
  grep -q '^guest: systemd .*bus up' "$work/console.txt" || failed "systemd and its bus were not up in the guest"
fi
grep -q '^guest: cases ran' "$work/console.txt" || failed "the guest did not finish its cases"
grep -q '^guest: exit 0' "$work/console.txt" || exit 1
