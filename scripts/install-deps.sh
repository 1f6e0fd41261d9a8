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
  # runtime parts: OCI runtimes, a static busybox for test and demo images, tini for --init
  runc crun busybox-static tini
  # test helpers: a real registry, reference image tools, a pty driver
  docker-registry umoci skopeo apache2-utils jq util-linux iproute2 procps nftables openssl python3
)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (it calls apt-get)" >&2
  exit 1
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
