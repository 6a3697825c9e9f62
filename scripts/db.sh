#!/usr/bin/env bash
# Make a PostGIS database ready for Maillage, or stop it.
#
#   scripts/db.sh          ensure PostgreSQL + PostGIS, start the project-local cluster,
#                          create the databases `maillage` and `maillage_test`, migrate them
#   scripts/db.sh stop     stop the project-local cluster
#
# With DATABASE_URL set, the local cluster is not used: only the migrations run
# against that server (and MAILLAGE_TEST_DATABASE_URL, when set, for the tests).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${MAILLAGE_VAR_DIR:-$ROOT/var}
PGDATA=$VAR/pgdata
SOCK=$VAR/run
LOG=$VAR/log/postgres.log
ALEMBIC="$ROOT/.venv/bin/alembic"
# MAILLAGE_EXTRA_DATABASES: more databases of the local cluster (make bench: maillage_bench).
read -r -a EXTRA <<< "${MAILLAGE_EXTRA_DATABASES:-}"
DATABASES=(maillage maillage_test "${EXTRA[@]}")

say() { printf '[db] %s\n' "$*" >&2; }
die() { printf '[db] ERREUR : %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1; fi
}

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_packages() {
  local bindir version
  bindir=$(pg_bindir || true)
  if [ -z "$bindir" ]; then
    say "PostgreSQL absent : installation par apt (postgresql, postgresql-contrib)…"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq postgresql postgresql-contrib >/dev/null \
      || die "impossible d'installer PostgreSQL (apt-get en root requis). Installez 'postgresql' et 'postgresql-15-postgis-3', ou définissez DATABASE_URL vers un serveur PostGIS."
    bindir=$(pg_bindir) || die "PostgreSQL introuvable après installation."
  fi
  version=$(basename "$(dirname "$bindir")")
  if [ ! -f "/usr/share/postgresql/$version/extension/postgis.control" ]; then
    say "PostGIS absent pour PostgreSQL $version : installation de postgresql-$version-postgis-3…"
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "postgresql-$version-postgis-3" >/dev/null; } \
      || die "impossible d'installer postgresql-$version-postgis-3 (apt-get en root requis), ou définissez DATABASE_URL."
  fi
  echo "$bindir"
}

PGPASSFILE_PATH=$VAR/pgpass

# A random password for the cluster's superuser, in libpq's password-file format.
ensure_password() {
  mkdir -p "$VAR"
  if [ ! -s "$PGPASSFILE_PATH" ]; then
    local pw
    pw=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
    (umask 077 && printf '*:*:*:postgres:%s\n' "$pw" >"$PGPASSFILE_PATH")
  fi
  chmod 600 "$PGPASSFILE_PATH"
}

# Durable defaults and password authentication, rewritten at every start so that a
# cluster made by an older version (trust, fsync off) is brought up to date.
write_config() {
  local user=$1
  sed -i -E '/^# Maillage project-local cluster/d; /^(listen_addresses|fsync|synchronous_commit|full_page_writes|shared_buffers|unix_socket_permissions|password_encryption) *=/d' "$PGDATA/postgresql.conf"
  cat >>"$PGDATA/postgresql.conf" <<CONF
# Maillage project-local cluster
listen_addresses = ''
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 256MB
CONF
  cat >"$PGDATA/pg_hba.conf" <<HBA
# Maillage: local socket only, password (SCRAM) for every role; no TCP, no trust.
local   all   all   scram-sha-256
HBA
  chown "$user" "$PGDATA/postgresql.conf" "$PGDATA/pg_hba.conf"
}

# A cluster made by an older version trusted the socket: set the generated password
# while that still works, before write_config closes it.
upgrade_trust_cluster() {
  local bindir=$1 user=$2
  grep -qE '^[^#]*\btrust\b' "$PGDATA/pg_hba.conf" 2>/dev/null || return 0
  ensure_password
  say "mise à niveau de sécurité du cluster : mot de passe SCRAM, fsync rétabli…"
  if ! run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 \
      -o "-c listen_addresses='' -k $SOCK" start >/dev/null || die "le démarrage a échoué, voir $LOG"
  fi
  local pw
  pw=$(cut -d: -f5- "$PGPASSFILE_PATH")
  "$bindir/psql" -h "$SOCK" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA \
    -c "SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD '$pw'" >/dev/null \
    || die "impossible de définir le mot de passe du cluster"
}

# initdb refuses to run as root: the cluster belongs to an unprivileged system user.
os_user() {
  if [ "$(id -u)" != 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id maillage >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin maillage
  echo maillage
}

run_as() {
  local user=$1; shift
  if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

start_cluster() {
  local bindir=$1 user
  user=$(os_user)
  mkdir -p "$VAR/log" "$SOCK"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    say "création du cluster local dans $PGDATA (utilisateur système $user)…"
    mkdir -p "$PGDATA"
    chown "$user" "$PGDATA" "$SOCK" "$VAR/log"
    chmod 700 "$PGDATA"
    run_as "$user" test -w "$PGDATA" \
      || die "l'utilisateur $user ne peut pas écrire dans $PGDATA (un dossier parent lui est fermé ?). Utilisez MAILLAGE_VAR_DIR ou DATABASE_URL."
    # The superuser's password is generated once and kept in a 0600 libpq password
    # file: no local account but the owner of var/ can read it.
    ensure_password
    local pwfile
    pwfile=$(mktemp "$VAR/run/.pw.XXXXXX")
    cut -d: -f5- "$PGPASSFILE_PATH" >"$pwfile"
    chown "$user" "$pwfile"
    run_as "$user" "$bindir/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$VAR/log/initdb.log" 2>&1 \
      || { rm -f "$pwfile"; die "initdb a échoué, voir $VAR/log/initdb.log"; }
    rm -f "$pwfile"
  else
    ensure_password
    upgrade_trust_cluster "$bindir" "$user"
  fi
  write_config "$user"
  chown "$user" "$SOCK" "$VAR/log"
  # Only the cluster's owner (and root) may reach the socket: never world-writable.
  chmod 700 "$SOCK"
  touch "$LOG" && chown "$user" "$LOG"
  if run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    say "cluster local déjà démarré ($SOCK)."
    run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" reload >/dev/null
  else
    say "démarrage du cluster local (socket $SOCK, aucun port TCP)…"
    run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 \
      -o "-c listen_addresses='' -k $SOCK" start >/dev/null \
      || die "le démarrage a échoué, voir $LOG"
  fi
  local psql=(env PGPASSFILE="$PGPASSFILE_PATH" PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -h "$SOCK" -U postgres -v ON_ERROR_STOP=1 -qtA)
  for db in "${DATABASES[@]}"; do
    if [ -z "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      say "création de la base $db…"
      "${psql[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
    fi
    "${psql[@]}" -d "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS unaccent;" >/dev/null
  done
  # Speed for the test suite without touching the cluster's durability: only the
  # sessions of the test database may lose their last commits on a crash.
  "${psql[@]}" -d postgres -c "ALTER DATABASE maillage_test SET synchronous_commit = off" >/dev/null
}

migrate() {
  local url=$1
  [ -x "$ALEMBIC" ] || die "environnement Python absent : lancez « make test » ou « make demo »."
  (cd "$ROOT" && MAILLAGE_MIGRATE_URL="$url" "$ALEMBIC" -c "$ROOT/alembic.ini" upgrade heads >/dev/null) \
    || die "la migration Alembic a échoué pour $url"
}

stop_cluster() {
  local bindir user
  bindir=$(pg_bindir) || { say "PostgreSQL absent : rien à arrêter."; return; }
  [ -s "$PGDATA/PG_VERSION" ] || { say "aucun cluster local."; return; }
  user=$(stat -c %U "$PGDATA")
  if run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    say "cluster local arrêté."
  else
    say "cluster local déjà arrêté."
  fi
}

case "${1:-start}" in
  stop) stop_cluster ;;
  start)
    if [ -n "${DATABASE_URL:-}" ]; then
      say "DATABASE_URL défini : le cluster local n'est pas utilisé."
      migrate "$DATABASE_URL"
      [ -n "${MAILLAGE_TEST_DATABASE_URL:-}" ] && migrate "$MAILLAGE_TEST_DATABASE_URL"
    else
      bindir=$(ensure_packages)
      start_cluster "$bindir"
      for db in "${DATABASES[@]}"; do
        migrate "postgresql+psycopg://postgres@/$db?host=$SOCK&passfile=$PGPASSFILE_PATH"
      done
    fi
    say "base prête (schéma à jour)."
    ;;
  *) die "usage : scripts/db.sh [start|stop]" ;;
esac
