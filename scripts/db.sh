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
DATABASES=(maillage maillage_test)

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
    # Trust on the Unix socket only: the cluster listens on no TCP port and its socket
    # lives in the project's var/ folder.
    run_as "$user" "$bindir/initdb" -D "$PGDATA" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$VAR/log/initdb.log" 2>&1 \
      || die "initdb a échoué, voir $VAR/log/initdb.log"
    cat >>"$PGDATA/postgresql.conf" <<CONF
# Maillage project-local cluster
listen_addresses = ''
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
CONF
  fi
  chown "$user" "$SOCK" "$VAR/log"
  touch "$LOG" && chown "$user" "$LOG"
  if run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    say "cluster local déjà démarré ($SOCK)."
  else
    say "démarrage du cluster local (socket $SOCK, aucun port TCP)…"
    run_as "$user" "$bindir/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 \
      -o "-c listen_addresses='' -k $SOCK" start >/dev/null \
      || die "le démarrage a échoué, voir $LOG"
  fi
  local psql=(env PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -h "$SOCK" -U postgres -v ON_ERROR_STOP=1 -qtA)
  for db in "${DATABASES[@]}"; do
    if [ -z "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      say "création de la base $db…"
      "${psql[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
    fi
    "${psql[@]}" -d "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS unaccent;" >/dev/null
  done
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
        migrate "postgresql+psycopg://postgres@/$db?host=$SOCK"
      done
    fi
    say "base prête (schéma à jour)."
    ;;
  *) die "usage : scripts/db.sh [start|stop]" ;;
esac
