#!/usr/bin/env bash
# Runs the whole test suite: configures and builds when needed, runs every
# test through `meson test`, and ends with the totals as "N passed, N failed, N skipped"
# (doctest cases counted one by one; any other test counts as one), after
# the names of the skipped cases. With CI=true a skipped case fails the run.
#
#   scripts/test.sh            # uses ./build
#   BUILD_DIR=out scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

setup_args=()
# CI treats warnings as errors; so may anyone who sets WERROR=1.
if [ "${CI:-}" = "true" ] || [ "${WERROR:-}" = "1" ]; then setup_args+=(-Dwerror=true); fi
# CI builds the same -O2 code without debug information: nobody reads a core
# there, and -g costs about a quarter of the build's time on two cores.
if [ "${CI:-}" = "true" ]; then setup_args+=(-Ddebug=false); fi
# It compiles the largest targets eight files at a time (meson_options.txt):
# about half their compile time on two cores.
if [ "${CI:-}" = "true" ]; then setup_args+=(-Dunity_heavy=true); fi
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "${setup_args[@]}" || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
elif [ ${#setup_args[@]} -gt 0 ]; then
  meson configure "$build" "${setup_args[@]}" >/dev/null
fi
if ! meson compile -C "$build"; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# Every test works under a temporary root: the host's own state paths that
# are not there before the run must not be there after it (one more case).
host_paths=(/var/lib/container /run/container /run/container-oci /etc/container)
absent=()
for p in "${host_paths[@]}"; do [ -e "$p" ] || absent+=("$p"); done

meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?

host_ok=1
for p in "${absent[@]}"; do
  if [ -e "$p" ]; then echo "the suite wrote to the host's own root: $p"; host_ok=0; rc=1; fi
done

# Totals from the test log: a doctest binary reports its own case counts;
# any other test is one case, passed when it exited 0.
awk -v host_ok="$host_ok" '
  function flush() {
    if (!open) return
    if (!doctest) { if (ok) passed++; else failed++ }
    open = 0
  }
  /^test:/            { flush(); open = 1; doctest = 0; ok = 0 }
  /^result:/          { ok = ($0 ~ /exit status 0$/) }
  # The "skipped" of doctest (its summary line) also counts the cases a
  # filter left to another test (the integration suite runs in parts): the
  # skipped are the cases a decorator skipped, named one per line by
  # doctest_main.cpp.
  /^\[doctest\] skipped: / { skipped++ }
  /^\[doctest\] test cases:/ {
    doctest = 1
    n = split($0, parts, "|")
    for (i = 1; i <= n; i++) {
      if (parts[i] ~ /passed/) { gsub(/[^0-9]/, "", parts[i]); passed += parts[i] }
      if (parts[i] ~ /failed/) { gsub(/[^0-9]/, "", parts[i]); failed += parts[i] }
    }
  }
  END { flush(); if (host_ok) passed++; else failed++; printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$build/meson-logs/testlog.txt" > "$build/meson-logs/totals.txt"

# The cases skipped because the machine lacks something (root, QEMU), by
# name. CI has everything: there, one skipped case fails the run.
skipped_names=$(sed -n 's/^\[doctest\] skipped: //p' "$build/meson-logs/testlog.txt")
if [ -n "$skipped_names" ]; then
  echo "skipped (this machine lacks what they need):"
  printf '%s\n' "$skipped_names" | sed 's/^/  /'
  if [ "${CI:-}" = "true" ]; then
    echo "CI runs every case: none may be skipped"
    rc=1
  fi
fi
# The failed cases, each with its failed checks: meson shows only the last
# lines of a long log, and the per-case durations push a failure out of them.
awk '
  /^=====+$/           { name = ""; shown = 0; grab = 0; next }
  /^TEST CASE: /       { name = $0; next }
  /: (FATAL )?ERROR: / { if (name != "" && !shown) { print "FAILED " name; shown = 1 }; grab = 12 }
  grab > 0             { print "  " $0; grab-- }
' "$build/meson-logs/testlog.txt" > "$build/meson-logs/failures.txt"
if [ -s "$build/meson-logs/failures.txt" ]; then
  echo "failed checks:"
  head -n 400 "$build/meson-logs/failures.txt"
fi
cat "$build/meson-logs/totals.txt"
exit $rc
