#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and CI.
#
#   eval "$(scripts/ci_postgres.sh start)"   # installs if needed, starts, exports the URL
#   scripts/ci_postgres.sh stop "$CHAINBOT_PG_DIR"
#
# `start` installs PostgreSQL from Debian's packages when initdb/pg_ctl are missing (needs
# root), creates a cluster in a new temporary directory owned by a non-root user, starts it on
# a free port bound to 127.0.0.1 only, creates a database, and prints shell `export` lines for
# CHAINBOT_TEST_POSTGRES_URL and CHAINBOT_PG_DIR on stdout. Progress goes to stderr.
set -euo pipefail

log() { echo "ci_postgres: $*" >&2; }

find_pg_bin() {
    local dir
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    # Debian keeps the server binaries out of PATH, one folder per major version.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/pg_ctl" && -x "$dir/initdb" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_pg() {
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
        exit 1
    fi
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
}

# The user the server runs as: PostgreSQL refuses to run as root.
pick_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
    elif getent passwd postgres >/dev/null; then
        echo postgres
    else
        getent passwd chainbot-ci >/dev/null || useradd --system --no-create-home chainbot-ci
        echo chainbot-ci
    fi
}

as_user() {
    local user=$1
    shift
    if [[ $(id -u) -ne 0 ]]; then
        "$@"
    else
        runuser -u "$user" -- "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin user dir port password db=chainbot_test dbuser=chainbot
    bin=$(find_pg_bin) || { install_pg; bin=$(find_pg_bin); }
    user=$(pick_user)
    dir=$(mktemp -d -t chainbot-pg.XXXXXX)
    chmod 700 "$dir"
    chown "$user" "$dir"
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    log "cluster in $dir, user $user, port $port, binaries $bin"

    printf '%s\n' "$password" >"$dir/pwfile"
    chown "$user" "$dir/pwfile"
    as_user "$user" "$bin/initdb" -D "$dir/data" -U "$dbuser" --pwfile="$dir/pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # Throwaway server: durability off for speed; sockets in the temp dir, TCP on loopback only.
    as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    as_user "$user" "$bin/createdb" -h "$dir" -p "$port" -U "$dbuser" "$db"

    log "started; stop with: $0 stop $dir"
    echo "export CHAINBOT_PG_DIR='$dir'"
    echo "export CHAINBOT_TEST_POSTGRES_URL='postgresql+psycopg://$dbuser:$password@127.0.0.1:$port/$db'"
}

stop() {
    local dir=${1:?usage: $0 stop DIR} bin user
    [[ -d "$dir/data" ]] || { log "no cluster in $dir"; exit 0; }
    bin=$(find_pg_bin)
    user=$(stat -c %U "$dir")
    as_user "$user" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    log "stopped and removed $dir"
}

case "${1:-}" in
    start) start ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
