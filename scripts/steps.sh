# Sourced by .ci/run and scripts/test: `step NAME CMD...` runs CMD with a
# line before and after it, so a red log says which step failed and when.
step() {
  local name=$1 start rc=0
  shift
  start=$(date +%s)
  echo "==> [$(date -u +%H:%M:%S)] step: $name"
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "==> [$(date -u +%H:%M:%S)] FAILED step: $name (exit $rc, $(($(date +%s) - start)) s)" >&2
    return "$rc"
  fi
  echo "==> [$(date -u +%H:%M:%S)] ok: $name ($(($(date +%s) - start)) s)"
}
