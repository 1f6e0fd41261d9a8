#!/usr/bin/env bash
# `container build` against buildah (Debian's, overlay storage, chroot
# isolation) on the same 3-stage Dockerfile with a 50 MiB context, in the
# same run: cold (--no-cache: every step runs; the base image is stored on
# both sides) and warm (every step cached). Also the daemon's peak memory
# beyond idle over the cold builds. Prints `metric NAME VALUE UNIT` lines.
source "$(dirname "$0")/lib.sh"
need buildah hyperfine umoci skopeo docker-registry
runs=${RUNS:-5}
start_registry
push_image base "mkdir -p bin && cp /bin/busybox bin/ && for a in sh cat cp mkdir echo sha256sum; do ln -s busybox bin/\$a; done"
base="$registry/bench/base:1"
ctx="$work/ctx"
mkdir -p "$ctx/data" "$ctx/src"
for i in $(seq 1 48); do head -c 1048576 /dev/urandom > "$ctx/data/blob$i"; done
for i in $(seq 1 20); do head -c 102400 /dev/urandom > "$ctx/src/part$i"; done
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM $BASE AS deps
COPY data/ /data/
RUN cat /data/* | sha256sum > /deps.sum
FROM $BASE AS build
COPY --from=deps /deps.sum /deps.sum
COPY src/ /src/
RUN mkdir /out && cp /src/* /out/ && echo built > /out/flag
FROM $BASE
COPY --from=build /out /app
CMD ["cat", "/app/flag"]
DOCKERFILE
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > "$work/policy.json"
bargs="--root $work/buildah/graph --runroot $work/buildah/run --storage-driver overlay"
ours="$ctr --root $work/ours build -q --build-arg BASE=$base -t bench-built:1"
theirs="TMPDIR=$work buildah $bargs bud -q --layers --isolation chroot --tls-verify=false --signature-policy $work/policy.json --build-arg BASE=$base -t bench-built"

# Outside the timing: the daemon is up and both sides hold the base image.
"$ctr" --root "$work/ours" image pull --progress none "$base" >/dev/null
eval "buildah $bargs pull -q --tls-verify=false --signature-policy $work/policy.json $base" >/dev/null
pid=$(cat "$work/ours/run/container/apiserver.pid")
idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

$ours --no-cache "$ctx" >/dev/null && eval "$theirs --no-cache $ctx" >/dev/null  # fail loudly before timing
hyperfine --runs "$runs" --export-csv "$work/cold.csv" \
  -n ours "$ours --no-cache $ctx >/dev/null" -n buildah "$theirs --no-cache $ctx >/dev/null" >/dev/null
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
$ours "$ctx" >/dev/null && eval "$theirs $ctx" >/dev/null
hyperfine --warmup 1 --runs "$((runs * 2))" --export-csv "$work/warm.csv" \
  -n ours "$ours $ctx >/dev/null" -n buildah "$theirs $ctx >/dev/null" >/dev/null
for kind in cold warm; do
  for n in ours buildah; do echo "metric build.$kind.$n.median $(median_ms "$work/$kind.csv" $n) ms"; done
done
echo "metric build.cold.ratio-buildah $(ratio "$(median_ms "$work/cold.csv" ours)" "$(median_ms "$work/cold.csv" buildah)") ours/buildah (target <= 0.7)"
echo "metric build.warm.ratio-buildah $(ratio "$(median_ms "$work/warm.csv" ours)" "$(median_ms "$work/warm.csv" buildah)") ours/buildah (target <= 0.2, and under 300 ms)"
echo "metric build.daemon-peak-beyond-idle $(( (peak_kib - idle_kib) / 1024 )) MiB (target < 64)"
eval "buildah $bargs rmi -a -f" >/dev/null 2>&1 || true
