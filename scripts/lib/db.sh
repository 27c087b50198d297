# shellcheck shell=bash
# Shared helpers for scripts/run and scripts/test. Source this file; do not execute it.
#
#   chibo_find_database NAME   find (or start, or install) PostgreSQL, create
#                              database NAME, export DATABASE_URL
#   chibo_ensure_chromium      make sure chromium + chromedriver exist (browser tests)
#   chibo_psql ARGS...         psql without ~/.psqlrc, found even if not on PATH
#
# Environment:
#   DATABASE_URL               if set, used as is (nothing is probed or created)
#   CHIBO_SKIP_LOCAL_5432=1    for testing: ignore a server on 127.0.0.1:5432 so the
#                              private-cluster branch (.pgdata, port 5439) is exercised

# Repo root = parent of scripts/, whichever script sourced us.
CHIBO_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHIBO_PGDATA="$CHIBO_REPO/.pgdata"
CHIBO_PRIVATE_PORT=5439

# Print "error: LINE1" plus any further lines indented, then stop the calling script.
_chibo_die() {
  printf 'error: %s\n' "$1" >&2
  shift
  [[ $# -eq 0 ]] || printf '       %s\n' "$@" >&2
  exit 1
}

_chibo_is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Highest-versioned server bin dir, e.g. /usr/lib/postgresql/16/bin (empty if none).
_chibo_pg_bindir() {
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && printf '%s\n' "$d"
  return 0
}

# psql may be missing from PATH when only the server package is installed.
chibo_psql() {
  local psql
  psql="$(command -v psql || true)"
  if [[ -z "$psql" ]]; then
    local d
    d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    [[ -x "$d/psql" ]] || _chibo_die "psql not found (sudo apt-get install postgresql-client)"
    psql="$d/psql"
  fi
  # -X: ignore ~/.psqlrc so output is predictable; -w: never prompt for a password.
  "$psql" -X -w -v ON_ERROR_STOP=1 "$@"
}

# Is anything accepting PostgreSQL connections on HOST PORT?
_chibo_port_open() {
  local host=$1 port=$2
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$host" -p "$port" -t 3
  else
    # No client tools: a plain TCP connect is good enough as a probe.
    timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
  fi
}

# Create database NAME on the server at BASE (postgres://user@host:port) unless it exists.
_chibo_create_db() {
  local base=$1 name=$2 exists
  exists="$(chibo_psql "$base/postgres" -tAc "select 1 from pg_database where datname='$name'")" ||
    _chibo_die "cannot query $base/postgres"
  if [[ "$exists" != 1 ]]; then
    echo "==> creating database $name"
    chibo_psql "$base/postgres" -qc "create database \"$name\"" ||
      _chibo_die "could not create database $name on $base (the role needs CREATEDB)"
  fi
}

# Run a command as the postgres OS user when we are root (initdb refuses root).
_chibo_as_pg_owner() {
  if _chibo_is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Step 2 probe: a server on 127.0.0.1:5432 (usually the distro's own cluster).
_chibo_have_5432() {
  [[ "${CHIBO_SKIP_LOCAL_5432:-}" != 1 ]] && _chibo_port_open 127.0.0.1 5432
}

_chibo_use_5432() {
  local name=$1 user
  # Trust auth as postgres is typical; otherwise maybe our own role has access.
  for user in postgres "$(id -un)"; do
    if PGCONNECT_TIMEOUT=5 chibo_psql "postgres://$user@127.0.0.1:5432/postgres" \
        -tAc 'select 1' >/dev/null 2>&1; then
      _chibo_create_db "postgres://$user@127.0.0.1:5432" "$name"
      export DATABASE_URL="postgres://$user@127.0.0.1:5432/$name"
      return 0
    fi
  done
  _chibo_die "a PostgreSQL server answers on 127.0.0.1:5432 but neither 'postgres' nor '$(id -un)' can log in without a password." \
    "Set DATABASE_URL, e.g.: export DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/$name"
}

# Step 3 probe: server binaries for the private cluster (empty if none).
# An existing .pgdata must be run by the major version that created it.
_chibo_private_bindir() {
  local v
  if [[ -f "$CHIBO_PGDATA/PG_VERSION" ]]; then
    v="$(cat "$CHIBO_PGDATA/PG_VERSION")"
    if [[ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]]; then
      printf '%s\n' "/usr/lib/postgresql/$v/bin"
      return 0
    fi
  fi
  _chibo_pg_bindir
}

# Step 3: a private cluster in $REPO/.pgdata on 127.0.0.1:5439, owned by this checkout.
_chibo_use_private_cluster() {
  local name=$1 bindir dir=$CHIBO_PGDATA port=$CHIBO_PRIVATE_PORT log
  bindir="$(_chibo_private_bindir)"

  if [[ ! -f "$dir/PG_VERSION" ]]; then
    if [[ -d "$dir" && -n "$(ls -A "$dir")" ]]; then
      _chibo_die "$dir exists but is not a PostgreSQL cluster; remove it and retry"
    fi
    echo "==> creating private PostgreSQL cluster in $dir (port $port)"
    mkdir -p "$dir"
    chmod 700 "$dir"
    if _chibo_is_root; then
      chown postgres:postgres "$dir"
      runuser -u postgres -- test -w "$dir" ||
        _chibo_die "user postgres cannot write $dir (a parent directory is not accessible to it)"
    fi
    # Superuser 'postgres', trust auth: a dev-only cluster reachable only via 127.0.0.1.
    log="$(mktemp)"
    _chibo_as_pg_owner "$bindir/initdb" -D "$dir" -U postgres -A trust -E UTF8 \
      --no-locale >"$log" 2>&1 || { cat "$log" >&2; _chibo_die "initdb failed"; }
    rm -f "$log"
    # Settings live in the cluster so a later plain 'pg_ctl start' behaves the same.
    _chibo_as_pg_owner tee -a "$dir/postgresql.conf" >/dev/null <<CONF

# added by scripts/lib/db.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
CONF
  fi

  if _chibo_as_pg_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo "==> reusing running private cluster in $dir"
  else
    echo "==> starting private PostgreSQL in $dir (log: $dir/server.log)"
    _chibo_as_pg_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null ||
      { tail -n 20 "$dir/server.log" >&2 || true; _chibo_die "could not start PostgreSQL in $dir"; }
  fi

  _chibo_create_db "postgres://postgres@127.0.0.1:$port" "$name"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$name"
}

# Step 4: install the distro package (needs root or sudo and apt-get).
_chibo_can_install() {
  command -v apt-get >/dev/null && { _chibo_is_root || command -v sudo >/dev/null; }
}

_chibo_install_postgres() {
  local sudo=()
  _chibo_is_root || sudo=(sudo)
  echo "==> installing PostgreSQL with apt-get"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
}

chibo_find_database() {
  local name=${1:?usage: chibo_find_database NAME}
  # NAME is pasted into SQL and URLs, so keep it to a plain identifier.
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || _chibo_die "bad database name: $name"

  if [[ -n "${DATABASE_URL:-}" ]]; then
    echo "==> using DATABASE_URL from the environment"
    export DATABASE_URL
    return 0
  fi

  # The probes only decide the branch; the _use_ steps run outside any `if`
  # so that `set -e` still stops on their failures.
  if ! _chibo_have_5432 && [[ -z "$(_chibo_private_bindir)" ]]; then
    _chibo_can_install ||
      _chibo_die "PostgreSQL not found. Install it (sudo apt-get install postgresql)" \
        "or point DATABASE_URL at a server, e.g. export DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/$name"
    _chibo_install_postgres
    # Debian's package may have started its own cluster on 5432; otherwise use .pgdata.
    [[ -n "$(_chibo_private_bindir)" ]] || _chibo_have_5432 ||
      _chibo_die "PostgreSQL was installed but no server binaries were found under /usr/lib/postgresql"
  fi

  if _chibo_have_5432; then
    _chibo_use_5432 "$name"
  else
    _chibo_use_private_cluster "$name"
  fi
  echo "==> DATABASE_URL=$DATABASE_URL"
}

chibo_ensure_chromium() {
  [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && return 0
  if _chibo_is_root && command -v apt-get >/dev/null; then
    echo "==> installing chromium and chromedriver for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
  else
    _chibo_die "the browser tests need /usr/bin/chromium and /usr/bin/chromedriver. Install them with:" \
      "  sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
  fi
}
