#!/usr/bin/env bash
# The storage tests need a PostgreSQL server on 127.0.0.1:5432 with trust auth and a database "test". The
# project's machines run one; where none answers, install Debian's postgresql package and start it.
set -euo pipefail
HOST=127.0.0.1
PORT=5432

answers() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

if answers; then
    exit 0
fi
echo "no PostgreSQL on $HOST:$PORT; starting Debian's" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
conf="/etc/postgresql/$version/main"
if ! $SUDO test -d "$conf"; then
    $SUDO pg_createcluster "$version" main >/dev/null
fi
# Trust on loopback and the local socket, as on the project's machines (test-only servers).
$SUDO sed -i -E 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)[^[:space:]]+/\1trust/' \
    "$conf/pg_hba.conf"
$SUDO sed -i -E 's/^(local[[:space:]]+all[[:space:]]+(postgres|all)[[:space:]]+)[^[:space:]]+/\1trust/' "$conf/pg_hba.conf"
$SUDO sed -i -E "s/^#?listen_addresses.*/listen_addresses = 'localhost'/" "$conf/postgresql.conf"
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || \
    $SUDO pg_ctlcluster "$version" main start
for _ in $(seq 1 60); do
    if answers; then break; fi
    sleep 0.5
done
answers || { echo "PostgreSQL did not start on $HOST:$PORT" >&2; exit 1; }
if ! psql -h "$HOST" -U postgres -Atc "select 1 from pg_database where datname = 'test'" | grep -q 1; then
    psql -h "$HOST" -U postgres -qc "create database test"
fi
