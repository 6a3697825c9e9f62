#!/usr/bin/env bash
# Debian packages the test suite needs besides PostgreSQL/PostGIS (see db.sh):
# a real headless Chromium and its driver for the browser tests, and osmium-tool, which
# reads .osm.pbf road extracts (geo/network.py; tests on the real Helsinki extract).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v osmium >/dev/null 2>&1 || missing+=(osmium-tool)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[deps] installation de ${missing[*]} par apt…" >&2
if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
  echo "[deps] ERREUR : ${missing[*]} manquant(s) et pas de droits root pour apt-get." >&2; exit 1; fi
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
