#!/bin/bash
# Runs the OCI runtime-tools validation suite (opencontainers/runtime-tools,
# validation/*/*.t: TAP programs that drive a runtime through the OCI CLI)
# against tsvisor's runsc, or any runtime, and prints a per-test summary.
# NOT part of `npm test`: it needs Go and a checkout of runtime-tools.
#
#   tools/oci/conformance.sh [TEST...]        # default: every validation test
#
# Environment:
#   RT_DIR    runtime-tools work tree (default /work/ext/runtime-tools). The
#             newest runtime-tools needs Go 1.21; with Debian 12's Go 1.19 use
#             commit 408c51e (2023-09-15), the last one whose go.mod says 1.19:
#               git --git-dir=RUNTIME_TOOLS.git archive 408c51e | tar -x -C $RT_DIR
#   RUNTIME   the runtime binary (default: this repo's bin/runsc).
#   RUNSC_FLAGS  global flags to give the runtime before each command, e.g.
#             RUNSC_FLAGS=--overlay2=none (the tests run RUNTIME as one path:
#             the script makes a wrapper in OUT).
#   OUT       where per-test TAP logs go (default /var/tmp/tsv-oci/<runtime
#             name>[<flags>], e.g. runsc--overlay2=none)
#   TIMEOUT   seconds per test (default 120)
# Builds runtimetest and the validation executables when missing
# (GOFLAGS=-mod=vendor GOPROXY=off: no network). Needs root (tests make
# cgroups and mount namespaces). Exits 2 when a prerequisite is missing,
# 1 when some test failed, 0 when all passed.
set -uo pipefail
REPO="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
RT_DIR=${RT_DIR:-/work/ext/runtime-tools}
RUNTIME=${RUNTIME:-$REPO/bin/runsc}
TIMEOUT=${TIMEOUT:-120}
RUNSC_FLAGS=${RUNSC_FLAGS:-}
OUT=${OUT:-/var/tmp/tsv-oci/$(basename "$RUNTIME")$(printf '%s' "$RUNSC_FLAGS" | tr -s ' /' '_')}

missing() { echo "conformance.sh: $* (prerequisite missing; this script is not run by npm test)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || missing "must run as root"
command -v go >/dev/null || missing "go is not installed (apt-get install golang-go)"
[ -f "$RT_DIR/Makefile" ] && [ -d "$RT_DIR/validation" ] ||
  missing "no runtime-tools work tree at $RT_DIR (fetch github:opencontainers/runtime-tools, see the header)"
[ -x "$RUNTIME" ] || missing "runtime $RUNTIME is not executable"
command -v tar >/dev/null || missing "tar is not installed"

cd "$RT_DIR" || exit 2
export GOFLAGS="-mod=vendor -p=1" GOPROXY=off GOTOOLCHAIN=local
if [ ! -x runtimetest ] || ! ls validation/*/*.t >/dev/null 2>&1; then
  echo "building runtimetest and the validation executables (once)..." >&2
  make runtimetest validation-executables >"$RT_DIR/build.log" 2>&1 || missing "building runtime-tools failed (see $RT_DIR/build.log)"
fi

if [ $# -gt 0 ]; then tests=("$@"); else
  tests=(); for t in validation/*/*.t; do tests+=("$(basename "$t" .t)"); done
fi
mkdir -p "$OUT"
if [ -n "$RUNSC_FLAGS" ]; then
  # The validation programs exec RUNTIME with the command's own flags only.
  wrapper=$OUT/runtime-with-flags
  printf '#!/bin/bash\nexec %q %s "$@"\n' "$RUNTIME" "$RUNSC_FLAGS" >"$wrapper"
  chmod 755 "$wrapper"
  RUNTIME=$wrapper
fi
pass=0; fail=0; failed=()
printf '%-40s %-6s %s\n' TEST RESULT 'ok/planned (first failure)'
for name in "${tests[@]}"; do
  exe=validation/$name/$name.t
  [ -x "$exe" ] || { printf '%-40s %-6s %s\n' "$name" MISSING "$exe"; fail=$((fail+1)); failed+=("$name"); continue; }
  log=$OUT/$name.tap
  RUNTIME=$RUNTIME timeout -k 5 "$TIMEOUT" "$exe" >"$log" 2>&1
  rc=$?
  plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -d. -f3)
  ok=$(grep -cE '^ok ' "$log")
  notok=$(grep -cE '^not ok ' "$log")
  first=$(grep -m1 -E '^not ok ' "$log" | cut -c1-90)
  # Some tests report a failure only as a YAML "error" block (plan 1..0);
  # some print no TAP at all and signal failure by their exit status.
  yamlerr=$(grep -m1 -E '^\s+"error": "[^"]' "$log" | sed 's/^ *"error": //' | cut -c1-80)
  if [ "$rc" -eq 0 ] && [ "$notok" -eq 0 ] && { [ -z "$plan" ] || [ "$ok" -eq "$plan" ]; } &&
     { [ "${plan:-0}" != 0 ] || [ -z "$yamlerr" ]; }; then
    res=PASS; pass=$((pass+1))
  else
    res=FAIL; fail=$((fail+1)); failed+=("$name")
    [ "$rc" -eq 124 ] && first="timed out after ${TIMEOUT}s; $first"
    [ -z "$first" ] && [ -n "$yamlerr" ] && first="error: $yamlerr"
    [ -z "$first" ] && first="exit $rc: $(grep -v '^#' "$log" | tail -1 | cut -c1-80)"
  fi
  printf '%-40s %-6s %s\n' "$name" "$res" "$ok/${plan:-?} $first"
done
echo "summary: $pass passed, $fail failed (runtime $RUNTIME${RUNSC_FLAGS:+ = runsc $RUNSC_FLAGS}; TAP logs in $OUT)"
[ "$fail" -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
