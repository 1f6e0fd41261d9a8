# Runs inside the test guest as PID 1 (tests/guest/guest_init.c started it
# on an overlay of the host's root): mounts what a booted system has, checks
# that cgroup2 is the only cgroup filesystem, and runs the integration cases
# run-guest.sh chose. Lines starting "guest: " are read by run-guest.sh.
#
# With ctr_init=systemd on the kernel's command line (the systemd guest),
# PID 1 becomes systemd after the mounts, and systemd runs this script
# again as a service (ctr-tests.service) to run the cases: a host whose
# cgroups systemd manages, with its bus up, as most users' are.
set -u
# shellcheck disable=SC1090
. "$ctr_env"
under_systemd=
[ "${ctr_init:-}" = systemd ] && [ "$$" != 1 ] && under_systemd=1
if [ -z "$under_systemd" ]; then
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
# What udev makes on a booted system (devtmpfs has none of them).
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Fresh tmpfs where tests make stores (overlay mounts cannot have an overlay
# as their upper layer); a source or build tree inside one comes back from
# the host's root, read-only.
# /var/lib/containers too: skopeo's blob-info cache (a bbolt file) lives
# there, and the host's skopeo may be writing its own copy at the same time.
# (systemd mounts its own /run.)
run=/run
[ "${ctr_init:-}" = systemd ] && run=
for d in /tmp $run /var/tmp /var/lib/container /var/lib/containers; do
  mount -t tmpfs -o mode=1777 tmpfs "$d" 2>/dev/null || continue
  for tree in "$src" "$build"; do
    case "$tree" in "$d"/*) mkdir -p "$tree" && mount --bind "/host$tree" "$tree" ;; esac
  done
done
# The host's modules are not this kernel's: ours, read from the unpacked package.
mkdir -p "/lib/modules/$version" && mount --bind "$modules" "/lib/modules/$version"
fi

if [ "${ctr_init:-}" = systemd ] && [ -z "$under_systemd" ]; then
  # The cases as a service, and the system bus it needs (runc and crun ask
  # systemd for scopes over it), with nothing else of a boot: no
  # sysinit.target, whose units this guest has no use for.
  cat > /etc/systemd/system/ctr-tests.service <<UNIT
[Unit]
Description=container's integration cases on a systemd host
DefaultDependencies=no
Wants=dbus.socket
After=dbus.socket
[Service]
Type=exec
Environment=ctr_env=$ctr_env ctr_init=systemd
ExecStart=/bin/bash $0
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT
  for unit in dbus.socket dbus.service; do
    mkdir -p "/etc/systemd/system/$unit.d"
    printf '[Unit]\nDefaultDependencies=no\n' > "/etc/systemd/system/$unit.d/ctr-tests.conf"
  done
  exec /lib/systemd/systemd --unit=ctr-tests.service --log-level=warning --show-status=false
fi
ip link set lo up
hostname guest
# A network as a booted host has one: an interface with an address and a
# default route (a dummy one: nothing lies beyond the guest), which tests
# may reach as "an address of the host's", and /dev/net/tun open to all
# users as udev makes it on most distributions (rootless outbound traffic).
# Set whether or not this works: a case that uses the address fails then.
export CTR_TEST_HOST_ADDR=192.0.2.10
ip link add eth0 type dummy && ip addr add "$CTR_TEST_HOST_ADDR/24" dev eth0 && ip link set eth0 up \
  && ip route add default via 192.0.2.1
chmod 0666 /dev/net/tun

if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && ! grep -qw cgroup /proc/filesystems.v1 2>/dev/null \
   && ! grep -q ' cgroup ' /proc/mounts && [ -z "$(awk -F: '$1 != 0' /proc/self/cgroup)" ]; then
  echo "guest: cgroup2 only ($(cat /sys/fs/cgroup/cgroup.controllers))"
fi
# Every controller to the children, as systemd does for its slices.
if [ -z "$under_systemd" ]; then
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
else
  # The bus starts beside this service: wait for it (a minute at most).
  bus=down
  for _ in $(seq 120); do
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null 2>&1 && { bus=up; break; }
    sleep 0.5
  done
  echo "guest: systemd $(systemctl is-system-running 2>&1), bus $bus"
fi

cd "$src"
"$build/tests/integration-tests" -tc="$filter" --duration=true --no-colors=true 2>&1
rc=$?
echo "guest: cases ran"
echo "guest: exit $rc"
sync
# Reboot at once (reboot=t, and QEMU's -no-reboot ends the VM) rather than
# panic with a trace when PID 1 exits.
echo 1 > /proc/sys/kernel/sysrq
echo b > /proc/sysrq-trigger
