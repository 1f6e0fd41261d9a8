#!/usr/bin/env bash
# Many running containers on one daemon: SCALE_N (500) `sleep` containers
# without a network, then SCALE_NET_N (200) across SCALE_NETS (20) networks.
# For each: the latency of every `run -d` (create and start, SCALE_PAR at a
# time) as p50/p99/max per tenth of the run, so that growth shows; `ls -a` at
# the full count; the daemon's RSS; the memory each container adds (its
# reaper's PSS, and that with its process); a restart of the daemon with all
# of them running (stop, start, until `ls` shows every one running); and
# `system stop --all` (the containers stop on SIGKILL: the grace period
# a `sleep` that ignores SIGTERM would wait out is not what is measured). Prints `metric NAME VALUE UNIT` lines. Needs
# hyperfine, umoci, skopeo, docker-registry.
source "$(dirname "$0")/lib.sh"
need hyperfine umoci skopeo docker-registry
n=${SCALE_N:-500}
net_n=${SCALE_NET_N:-200}
nets=${SCALE_NETS:-20}
par=${SCALE_PAR:-4}
start_registry
tiny_image sleep sh
R="$work/ours"
c() { "$ctr" --root "$R" "$@"; }
c system start >/dev/null

now_ns() { date +%s%N; }
daemon_pid() { cat "$R/run/container/apiserver.pid"; }
running() { c ls -q | wc -l; }

# starts COUNT NETWORK-PREFIX: `run -d` COUNT containers, PAR at a time, each
# on network PREFIX(I % nets) when a prefix is given; "I MS" per container
# into $work/lat.
starts() {
  local count=$1 prefix=${2:-}
  : > "$work/lat"
  export ctr R image prefix nets
  seq "$count" | xargs -P "$par" -I{} bash -c '
    i={}; net="--network none"
    [ -n "$prefix" ] && net="--network $prefix$((i % nets))"
    t0=$(date +%s%N)
    "$ctr" --root "$R" run -d $net --stop-signal SIGKILL --name "s$i" "$image" sleep 36000 >/dev/null || echo "run s$i failed" >&2
    echo "$i $(( ($(date +%s%N) - t0) / 1000000 ))"' >> "$work/lat"
}

# report LABEL COUNT: the figures for the COUNT containers now running.
report() {
  local label=$1 count=$2 tenth t from to
  tenth=$(( (count + 9) / 10 ))
  for t in $(seq 0 9); do
    from=$((t * tenth + 1)) to=$(( (t + 1) * tenth ))
    awk -v a="$from" -v b="$to" '$1 >= a && $1 <= b {print $2}' "$work/lat" | sort -n | awk -v l="$label" -v a="$from" -v b="$to" '
      { v[NR] = $1 }
      END { if (NR == 0) exit; p99 = v[int(NR * 0.99 + 0.999)]; if (p99 == "") p99 = v[NR]
            printf "metric scale.%s.start_ms.%d-%d p50 %d p99 %d max %d ms\n", l, a, b, v[int((NR + 1) / 2)], p99, v[NR] }'
  done
  sort -n -k2 "$work/lat" | awk -v l="$label" '{ v[NR] = $2 } END { printf "metric scale.%s.start_p99 %d ms (target < 2000)\n", l, v[int(NR * 0.99 + 0.999)] }'
  echo "metric scale.$label.running $(running) containers"
  hyperfine -N --warmup 3 --runs 20 --export-csv "$work/ls.csv" -n ls "$ctr --root $R ls -a" >/dev/null 2>&1
  echo "metric scale.$label.ls $(median_ms "$work/ls.csv" ls) ms (target < 50)"
  echo "metric scale.$label.daemon_rss $(awk '/^VmRSS:/{print $2}' "/proc/$(daemon_pid)/status") KiB (target < 65536)"
  local reapers procs
  reapers=$(pgrep -f "container-shim-reaper .*$R/" | tr '\n' ' ')
  procs=$(for p in $reapers; do pgrep -P "$p"; done | tr '\n' ' ')
  echo "metric scale.$label.reaper_pss $(( $(pss $reapers) / count )) KiB/container (target < 400)"
  echo "metric scale.$label.container_pss $(( ($(pss $reapers) + $(pss $procs)) / count )) KiB/container"

  # A restart of the daemon with every container running: stopped, started,
  # and `ls` shows them all running again.
  local t0 ms
  t0=$(now_ns)
  c system stop >/dev/null
  c system start >/dev/null
  while [ "$(running)" -lt "$count" ]; do sleep 0.05; done
  ms=$(( ($(now_ns) - t0) / 1000000 ))
  echo "metric scale.$label.daemon_restart $ms ms (target < 10000)"
  t0=$(now_ns)
  c system stop --all >/dev/null
  ms=$(( ($(now_ns) - t0) / 1000000 ))
  echo "metric scale.$label.stop_all $ms ms (target < 10000)"
  c system start >/dev/null
  t0=$(now_ns)
  c rm -a -f >/dev/null
  echo "metric scale.$label.rm_all $(( ($(now_ns) - t0) / 1000000 )) ms"
}

starts "$n"
report "$n" "$n"

for i in $(seq 0 $((nets - 1))); do c network create "scale$i" >/dev/null; done
starts "$net_n" scale
report "$net_n-on-$nets-networks" "$net_n"
for i in $(seq 0 $((nets - 1))); do c network rm "scale$i" >/dev/null; done
