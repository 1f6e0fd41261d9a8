#!/usr/bin/env bash
# The daemon's memory while it pulls an image with one large layer (1 GiB of
# text-like data by default; BIG_MB to change): its resident size before the
# pull against its peak (VmHWM) after. Layers stream from the socket to the
# content store and from there through the decompressor to the files, so the
# growth should not depend on the layer's size. Target: under 64 MiB.
source "$(dirname "$0")/lib.sh"
need umoci skopeo docker-registry
big=${BIG_MB:-1024}
start_registry
# base64 of random bytes: ~25% smaller compressed, unlike zeros (which unpack
# into holes) or random bytes (which gzip cannot shrink).
push_image big "head -c $((big * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 4096 > big.txt"
"$ctr" --root "$work/ours" system start >/dev/null
pid=$("$ctr" --root "$work/ours" system status --format json | jq -r .pid)
before=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
"$ctr" --root "$work/ours" image pull --progress none "$registry/bench/big:1" >/dev/null
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
echo "metric pull-memory.layer ${big} MiB of data, $(("$(du -sm "$work/ours/var/lib/container/plugins/image-oci/snapshots" | cut -f1)")) MiB unpacked"
echo "metric pull-memory.rss-before $((before / 1024)) MiB"
echo "metric pull-memory.peak $((peak / 1024)) MiB"
echo "metric pull-memory.growth $(((peak - before) / 1024)) MiB (target < 64)"
