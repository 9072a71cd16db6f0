#!/usr/bin/env bash
# Run pytest from the venv; "no tests collected" (exit 5) is a failure, never a silent pass.
#
# `run-pytest.sh --suite [ARGS]` (make test, CI) runs the whole suite in two passes, each
# naming its 40 slowest tests:
#   1. the pure unit tests (`unit and not integration`) spread over every core (pytest-xdist);
#   2. everything else (lab, real servers, PostgreSQL, /work/lab.lock users) one at a time.
# The two selections add up to the whole suite (`not bench`, the addopts default). ARGS that
# choose their own markers (-m) get one serial pass instead.
set -uo pipefail
cd "$(dirname "$0")/.."

run() {
  .venv/bin/python -m pytest "$@"
}

if [ "${1-}" != "--suite" ]; then
  run "$@"
  rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "run-pytest: no tests were collected for: pytest $*" >&2
    exit 1
  fi
  exit "$rc"
fi
shift

PURE_UNIT="unit and not integration"
for arg in "$@"; do
  case "$arg" in
    -m | -m*) exec "$0" --durations=40 "$@" ;;
  esac
done

run -n auto -m "$PURE_UNIT" --durations=40 "$@"
unit_rc=$?
run -m "not bench and not ($PURE_UNIT)" --durations=40 "$@"
rest_rc=$?

if [ "$unit_rc" -eq 5 ] && [ "$rest_rc" -eq 5 ]; then
  echo "run-pytest: no tests were collected for: pytest $*" >&2
  exit 1
fi
for rc in "$unit_rc" "$rest_rc"; do
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
    echo "run-pytest: unit pass exit $unit_rc, serial pass exit $rest_rc" >&2
    exit "$rc"
  fi
done
exit 0
