#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use answers on 127.0.0.1:5432, starting the
# machine's cluster if it is down. Tests create and drop their own databases.
set -euo pipefail
host=${PGHOST_TEST:-127.0.0.1}
port=${PGPORT_TEST:-5432}

answers() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if answers; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "PostgreSQL is down on $host:$port; starting it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
for _ in $(seq 1 30); do
  if answers; then exit 0; fi
  sleep 1
done
echo "PostgreSQL does not answer on $host:$port. The PostgreSQL tests need it: start it, or set" >&2
echo "HANDOFF_TEST_POSTGRES_URL to a server where the user may create databases." >&2
exit 1
