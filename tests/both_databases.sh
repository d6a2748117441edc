#!/usr/bin/env bash
# The suite on SQLite and, at the same time, on PostgreSQL (`make test` calls this).
#
# The two passes share nothing: each has its own data folder and artifacts folder, the
# SQLite pass never reaches PostgreSQL or Redis (the tests that need a second process on
# a shared database skip there), and every server a test starts listens on a free port.
# Running them side by side uses both cores of a small machine instead of one.
#
# usage: tests/both_databases.sh PYTEST_BIN PYTHON_BIN TEST_DATABASE_URL [PYTEST ARGS…]
set -uo pipefail

pytest_bin=$1 python_bin=$2 pg_url=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/var"
sqlite_log=$root/var/test-sqlite.log

with_pg=0
if "$python_bin" "$root/tests/pg_reachable.py" "$pg_url"; then
  with_pg=1
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $pg_url: CI requires it" >&2
  exit 1
fi

RINGUP_DATA_DIR=$root/var/test-sqlite RINGUP_TEST_ARTIFACTS=$root/tests/artifacts/sqlite \
  "$pytest_bin" "$@" >"$sqlite_log" 2>&1 &
sqlite_pid=$!
# Stop the background pass too when this script is interrupted.
trap 'kill "$sqlite_pid" 2>/dev/null' INT TERM

status=0
if [ "$with_pg" = 1 ]; then
  echo "== the suite on PostgreSQL ($pg_url); the SQLite pass runs beside it into $sqlite_log"
  DATABASE_URL=$pg_url RINGUP_DATA_DIR=$root/var/test-pg \
    RINGUP_TEST_ARTIFACTS=$root/tests/artifacts/postgresql "$pytest_bin" "$@" || status=1
else
  echo "== PostgreSQL not reachable at $pg_url: its pass was not run"
fi

wait "$sqlite_pid" || status=1
echo "== the suite on SQLite"
cat "$sqlite_log"
if [ "$status" != 0 ]; then
  echo "== FAILED: see the pass(es) above" >&2
fi
exit "$status"
