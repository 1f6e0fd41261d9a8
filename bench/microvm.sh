#!/usr/bin/env bash
# runtime-microvm, in the same run:
#  - `container run --rm --runtime microvm IMAGE true` against a bare QEMU
#    boot of the same kernel and initramfs to poweroff (the agent's
#    ctr.poweroff mode: boot, load the modules, power off);
#  - host memory per idle VM container (its cgroup: QEMU, virtiofsd, proxy);
#  - the fraction of 512 MiB freed in a guest that the host gets back in 20 s.
# Prints `metric NAME VALUE UNIT` lines. Needs hyperfine, QEMU and a cloud
# kernel package (KERNEL_DEB=..., else the one scripts/install-deps.sh cached).
source "$(dirname "$0")/lib.sh"
need hyperfine umoci skopeo docker-registry qemu-system-x86_64
runs=${RUNS:-10}
deb=${KERNEL_DEB:-$(ls /var/cache/container-tests/kernels/linux-image-*.deb 2>/dev/null | head -1)}
[ -f "$deb" ] || { echo "bench: no kernel package (set KERNEL_DEB or run scripts/install-deps.sh)" >&2; exit 2; }
start_registry
push_image tiny "mkdir -p bin && cp /bin/busybox bin/ && ln -s busybox bin/true && ln -s busybox bin/sh"
image="$registry/bench/tiny:1"
"$ctr" --root "$work/ours" image pull --progress none "$image" >/dev/null
"$ctr" --root "$work/ours" system kernel set --package "$deb" >/dev/null 2>&1
kdir="$work/ours/var/lib/container/plugins/runtime-microvm/kernels/current"
accel=tcg
grep -qE ' (vmx|svm)' /proc/cpuinfo && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && accel=kvm
cpu=max; [ $accel = kvm ] && cpu=host
khz=$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
bare="qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot -machine microvm -accel $accel -cpu $cpu -m 1024M -smp 1 \
 -kernel $kdir/vmlinuz -initrd $kdir/initramfs.img -serial null \
 -append 'console=ttyS0 reboot=t panic=-1 quiet loglevel=3 rdinit=/init tsc_early_khz=$khz ctr.poweroff'"
# A first run builds the initramfs and warms the caches.
"$ctr" --root "$work/ours" run --rm --runtime microvm "$image" true >/dev/null 2>&1

hyperfine -N --warmup 1 --runs "$runs" --export-csv "$work/vm.csv" \
  -n ours "$ctr --root $work/ours run --rm --runtime microvm $image true" \
  -n bare-qemu "sh -c \"$bare\"" >/dev/null 2>&1
for n in ours bare-qemu; do echo "metric microvm.start.$n.median $(median_ms "$work/vm.csv" $n) ms ($accel)"; done
echo "metric microvm.start.ratio-bare $(ratio "$(median_ms "$work/vm.csv" ours)" "$(median_ms "$work/vm.csv" bare-qemu)") ours/bare-qemu (target <= 1.3)"

# Idle memory: three containers that sleep, measured after they settle.
ids=()
for i in 1 2 3; do ids+=("$("$ctr" --root "$work/ours" run -d --runtime microvm "$image" sh -c 'sleep 600' 2>/dev/null)"); done
sleep 15
total=0
for id in "${ids[@]}"; do
  usage=$("$ctr" --root "$work/ours" stats --no-stream --format json "$id" | jq '.[0].memory.usage')
  total=$((total + usage))
done
echo "metric microvm.idle-memory.per-container $((total / 3 / 1024 / 1024)) MiB (cgroup: qemu, virtiofsd, proxy)"
"$ctr" --root "$work/ours" rm -f "${ids[@]}" >/dev/null

# Memory given back: allocate 512 MiB in the guest, free it, wait 20 s.
id=$("$ctr" --root "$work/ours" run -d --runtime microvm --memory 1g "$image" sh -c \
  'sleep 2; busybox dd if=/dev/zero of=/dev/null bs=512M count=1 2>/dev/null; echo freed; sleep 600' 2>/dev/null)
vmdir="$work/ours/var/lib/container/plugins/runtime-microvm/vms/$id"
qemu=""
for _ in $(seq 100); do
  for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = "$vmdir" ] && qemu=${p#/proc/}; done
  [ -n "$qemu" ] && break; sleep 0.1
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$qemu/status"; }
peak=0
until "$ctr" --root "$work/ours" logs "$id" | grep -q freed; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2; done
r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
sleep 20
after=$(rss)
echo "metric microvm.memory-returned.fraction $(awk -v p="$peak" -v a="$after" 'BEGIN {printf "%.2f", (p - a) / (512 * 1024)}') of 512 MiB in 20 s (peak $((peak / 1024)) MiB, after $((after / 1024)) MiB)"
"$ctr" --root "$work/ours" rm -f "$id" >/dev/null
