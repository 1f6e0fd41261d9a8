#!/usr/bin/env bash
# Networking, ours against podman in the same run. Prints `metric NAME VALUE
# UNIT` lines and the ratios.
#  - start: `container run --rm IMAGE true` on the default network against
#    `podman run --rm` on its default (CNI bridge) network;
#  - throughput: one TCP stream between two containers on one network
#    (bench/tcpblast.c, 4 GiB, timed inside the sender), ours against podman's;
#  - networks: time to create 50 networks and remove them.
# podman's default network makes the bridge cni-podman0 (and its rules); the
# script removes the bridge after the run when it did not exist before.
source "$(dirname "$0")/lib.sh"
need podman hyperfine umoci skopeo docker-registry
runs=${RUNS:-20}
mkdir -p "$work/ours/etc/container"
printf '[network]\nsubnet_pool = "10.199.0.0/16"\n' > "$work/ours/etc/container/config.toml"
start_registry
tiny_image true
# podman's CNI makes a bridge and iptables-nft tables: undone after the run
# when they were not there before. Ours use their own pool, away from
# podman's 10.88.0.0/16.
bridge_existed=0 nat_existed=0 filter_existed=0
ip link show cni-podman0 >/dev/null 2>&1 && bridge_existed=1
nft list table ip nat >/dev/null 2>&1 && nat_existed=1
nft list table ip filter >/dev/null 2>&1 && filter_existed=1
net_cleanup() {
  bench_cleanup
  [ "$bridge_existed" = 0 ] && ip link del cni-podman0 2>/dev/null
  [ "$nat_existed" = 0 ] && nft delete table ip nat 2>/dev/null
  [ "$filter_existed" = 0 ] && nft delete table ip filter 2>/dev/null
  true
}
trap net_cleanup EXIT
ulim="--ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

# Both make their default network once, outside the timing.
"$ctr" --root "$work/ours" run --rm "$image" true
$piso --runtime runc run --rm $ulim "$image" true

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/net-start.csv" \
  -n ours-default "$ctr --root $work/ours run --rm $image true" \
  -n ours-none "$ctr --root $work/ours run --rm --network none $image true" \
  -n podman-runc-bridge "$piso --runtime runc run --rm $ulim $image true" >/dev/null
for n in ours-default ours-none podman-runc-bridge; do echo "metric net.start.$n.median $(median_ms "$work/net-start.csv" $n) ms"; done
ours=$(median_ms "$work/net-start.csv" ours-default)
echo "metric net.start.ratio-podman $(ratio "$ours" "$(median_ms "$work/net-start.csv" podman-runc-bridge)") ours/podman (target <= 0.25)"
echo "metric net.start.bridge-cost $(awk -v a="$ours" -v b="$(median_ms "$work/net-start.csv" ours-none)" 'BEGIN {printf "%.1f", a - b}') ms (default network over none)"

# Throughput: one TCP stream of 4 GiB between two containers on one network,
# timed inside the sender by tcpblast (a static binary of ours), so that the
# figure is the network path's, not the start time or a tool's buffers.
mib=${MIB:-4096}
cc -O2 -static -o "$work/tcpblast" bench/tcpblast.c
push_image blast "mkdir -p bin && cp /bin/busybox bin/ && ln -s busybox bin/sh && cp $work/tcpblast bin/"
blast="$registry/bench/blast:1"
"$ctr" --root "$work/ours" image pull --progress none "$blast" >/dev/null
$piso pull -q --tls-verify=false "$blast" >/dev/null
"$ctr" --root "$work/ours" network create benchnet >/dev/null
"$ctr" --root "$work/ours" run -d --name sink --network benchnet "$blast" tcpblast sink 5001 >/dev/null
sink_ip=$("$ctr" --root "$work/ours" network inspect benchnet | jq -r '.[0].endpoints[0].ip')
sleep 0.3
read -r ours_g ours_s <<<"$("$ctr" --root "$work/ours" run --rm --network benchnet "$blast" tcpblast send "$sink_ip" 5001 "$mib")"
"$ctr" --root "$work/ours" rm -f sink >/dev/null; "$ctr" --root "$work/ours" network rm benchnet >/dev/null
$piso network create benchnet >/dev/null
$piso --runtime runc run -d $ulim --name sink --network benchnet "$blast" tcpblast sink 5001 >/dev/null
psink_ip=$($piso inspect sink --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
sleep 0.3
read -r podman_g podman_s <<<"$($piso --runtime runc run --rm $ulim --network benchnet "$blast" tcpblast send "$psink_ip" 5001 "$mib")"
$piso rm -f -t 0 sink >/dev/null; $piso network rm benchnet >/dev/null
echo "metric net.tcp.ours $ours_g Gbit/s (${mib} MiB in ${ours_s} s)"
echo "metric net.tcp.podman $podman_g Gbit/s (${mib} MiB in ${podman_s} s)"
echo "metric net.tcp.ratio-podman $(ratio "$ours_g" "$podman_g") ours/podman throughput (target >= 0.9)"

# 50 networks made and removed, ours and podman's (whose CNI networks are
# files until a container uses them).
fifty() {  # ENGINE...: prints "create_ms remove_ms"
  local t0 t1 t2 i
  t0=$(date +%s.%N)
  for i in $(seq 50); do "$@" network create "n$i" >/dev/null; done
  t1=$(date +%s.%N)
  for i in $(seq 50); do "$@" network rm "n$i" >/dev/null; done
  t2=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {printf "%.0f %.0f", (b - a) * 1000, (c - b) * 1000}'
}
read -r oc orm <<<"$(fifty "$ctr" --root "$work/ours")"
read -r pc prm <<<"$(fifty $piso)"
echo "metric net.networks50.ours.create $oc ms"
echo "metric net.networks50.ours.remove $orm ms"
echo "metric net.networks50.podman.create $pc ms"
echo "metric net.networks50.podman.remove $prm ms"
echo "metric net.networks50.ratio-podman $(ratio "$((oc + orm))" "$((pc + prm))") ours/podman (create + remove)"
