#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, test and run.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  # build
  meson ninja-build g++ pkg-config
  # libraries (see docs/architecture.md for what each one does)
  libtomlplusplus-dev libboost1.74-dev libboost-filesystem1.74-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev doctest-dev libcli11-dev
  libsqlite3-dev libssl-dev libcurl4-openssl-dev libarchive-dev zlib1g-dev libzstd-dev
  libcap-dev libseccomp-dev libnl-route-3-dev libnftables-dev libyaml-cpp-dev
  # the plugin kit's minimal C runtime reads JSON with jansson
  libjansson-dev
  # runtime parts: OCI runtimes, a static busybox for test and demo images, tini for --init
  runc crun busybox-static tini
  # rootless: newuidmap/newgidmap map a user's /etc/subuid ranges; useradd and
  # setpriv (the rootless test's users) come with every Debian; slirp4netns
  # carries rootless containers' traffic out of the user's network namespace
  uidmap passwd slirp4netns
  # overlay mounts where the kernel refuses them in a user namespace
  fuse-overlayfs
  # runtime-microvm: QEMU (which ships virtiofsd) and dpkg-deb for kernel packages;
  # the systemd guest boots this machine's systemd and D-Bus as its init
  qemu-system-x86 dpkg systemd dbus
  # test helpers: a real registry, reference image tools, a pty driver
  docker-registry umoci skopeo apache2-utils jq util-linux iproute2 procps nftables openssl python3
  # clients of the Docker API tests (no recommends: never docker.io's daemon)
  docker-compose python3-docker
  # the reference builder the build tests compare ours with (chroot isolation: no runtime needed)
  buildah
  # engines that drive container-oci as they drive runc (each test starts its own, privately);
  # gRPC for the test's calls to containerd's CRI, as a kubelet makes them
  podman containerd python3-grpcio
)

# testcontainers for Node (tests/integration/testcontainers_test.cpp, which
# installs the npm package itself): Node.js and npm, Debian's unless the
# machine has its own.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (it calls apt-get)" >&2
  exit 1
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

# The guest kernel the runtime-microvm tests install into their throwaway
# roots: Debian's cloud kernel package, fetched once (apt checks it against
# the archive's signed index) and kept here across runs.
kernel_cache=/var/cache/container-tests/kernels
mkdir -p "$kernel_cache"
if ! ls "$kernel_cache"/linux-image-*.deb >/dev/null 2>&1; then
  kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: //p' | head -1)
  (cd "$kernel_cache" && apt-get download -q "$kernel_pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  ls "$kernel_cache"/linux-image-*.deb >/dev/null
fi

# The docker CLI the Docker API tests drive: only the client, taken out of
# Debian's docker.io package (installing the package would also install, and
# on some hosts start, dockerd; the tests never run one). Kept across runs.
docker_cache=/var/cache/container-tests/docker
mkdir -p "$docker_cache"
if [ ! -x "$docker_cache/docker" ]; then
  work=$(mktemp -d)
  (cd "$work" && apt-get download -q docker.io 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  dpkg-deb -x "$work"/docker.io_*.deb "$work/x"
  install -m 0755 "$work/x/usr/bin/docker" "$docker_cache/docker"
  rm -rf "$work"
fi
