#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests on a loopback port, or stop it.
#   scripts/pg-test-server.sh start DIR PORT   -> prints the SQLAlchemy URL of database "irpatrol_test"
#   scripts/pg-test-server.sh stop DIR
# Uses Debian's postgresql package (installed by scripts/test.sh). As root the server runs as
# the "postgres" system user, since PostgreSQL refuses to run as root.
set -euo pipefail
action="$1"; dir="$2"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$bindir" ]; then echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; fi
as_owner=()
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); fi
case "$action" in
start)
    port="$3"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        "${as_owner[@]}" "$bindir/initdb" -D "$dir" -U irpatrol --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on -c max_connections=200" \
        start >/dev/null
    "${as_owner[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U irpatrol -d postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname='irpatrol_test'" | grep -q 1 ||
        "${as_owner[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U irpatrol irpatrol_test
    echo "postgresql+psycopg://irpatrol@127.0.0.1:$port/irpatrol_test"
    ;;
stop)
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
*) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
