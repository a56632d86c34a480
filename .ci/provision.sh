#!/usr/bin/env bash
# Installs what is missing and provisions PostgreSQL + PostGIS for GridMap.
# Idempotent: a second run only checks. Used by `make setup` (and so by `make run` and `make test`).
# DATABASE_URL=postgis://user:pass@host:port/name points it at an existing PostGIS instead.
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_URL="postgis://gridmap:gridmap@127.0.0.1:5432/gridmap"
DATABASE_URL="${DATABASE_URL:-$DEFAULT_URL}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. Debian packages (only the missing ones).
# libatomic1: the Playwright driver (node) needs libatomic.so.1, which a bare Debian lacks; wrk: the HTTP benchmarks.
PKGS="postgresql postgresql-15-postgis-3 gdal-bin gettext chromium fonts-noto-cjk docker-compose libatomic1 wrk"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
# Node.js may come from elsewhere with its own npm (Debian's npm conflicts with it): check the commands.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
python3 -c "import venv, ensurepip" 2>/dev/null || missing="$missing python3-venv"
if [ -n "$missing" ]; then
  log "installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# 2. Python virtual environment with pinned dependencies.
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then log "creating .venv"; "$PY" -m venv .venv; fi
stamp=".venv/.requirements.sha"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python packages"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# 3. Front-end packages from npm, copied into local static files (never a CDN).
lockstamp="node_modules/.lock.sha"
wantlock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$lockstamp" 2>/dev/null)" != "$wantlock" ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$wantlock" > "$lockstamp"
fi
.venv/bin/python -m gridmap.vendor

# 4. PostgreSQL: start a local server when none answers at DATABASE_URL.
eval "$(.venv/bin/python - "$DATABASE_URL" <<'PYEOF'
import sys, shlex
from urllib.parse import urlparse, unquote
u = urlparse(sys.argv[1])
for k, v in dict(DBHOST=u.hostname or "127.0.0.1", DBPORT=u.port or 5432, DBUSER=unquote(u.username or "gridmap"),
                 DBPASS=unquote(u.password or ""), DBNAME=u.path.lstrip("/") or "gridmap").items():
    print(f"{k}={shlex.quote(str(v))}")
PYEOF
)"
if ! pg_isready -q -h "$DBHOST" -p "$DBPORT"; then
  case "$DBHOST" in
    127.0.0.1|localhost|::1) ;;
    *) echo "No PostgreSQL answers at $DBHOST:$DBPORT (DATABASE_URL)." >&2; exit 1 ;;
  esac
  log "starting local PostgreSQL 15"
  [ -d /etc/postgresql/15/main ] || $SUDO pg_createcluster 15 main -p "$DBPORT" >/dev/null
  $SUDO pg_ctlcluster 15 main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$DBHOST" -p "$DBPORT" && break; sleep 1; done
  pg_isready -h "$DBHOST" -p "$DBPORT"
fi

# 5. Role, database and the postgis extension (only for a server we run ourselves, as the postgres superuser).
if [ "$DATABASE_URL" = "$DEFAULT_URL" ] || [ "${GRIDMAP_PROVISION_DB:-0}" = 1 ]; then
  export PGOPTIONS="-c client_min_messages=warning"
  asroot() { $SUDO -u postgres psql -v ON_ERROR_STOP=1 -qAt -p "$DBPORT" "$@"; }
  if [ "$(id -u)" -eq 0 ]; then asroot() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$DBPORT" "$@"; }; fi
  if [ "$(asroot -c "SELECT 1 FROM pg_roles WHERE rolname='$DBUSER'")" != 1 ]; then
    log "creating role $DBUSER"
    asroot -c "CREATE ROLE \"$DBUSER\" LOGIN CREATEDB PASSWORD '$DBPASS'"
  fi
  # postgis lives in template1, so the test database (created by the tests as this role) has it too.
  asroot -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
  if [ "$(asroot -c "SELECT 1 FROM pg_database WHERE datname='$DBNAME'")" != 1 ]; then
    log "creating database $DBNAME"
    asroot -c "CREATE DATABASE \"$DBNAME\" OWNER \"$DBUSER\""
  fi
  asroot -d "$DBNAME" -c "CREATE EXTENSION IF NOT EXISTS postgis"
fi
log "ready: PostgreSQL at $DBHOST:$DBPORT, database $DBNAME"

# 6. The install's secrets (SECRET_KEY, data and index keys): random, written once, owner-only, outside the
#    repository (.ci/secrets.sh); the Makefile passes them to every command.
bash .ci/secrets.sh ensure
log "secrets: $(bash .ci/secrets.sh path) (back it up with the database)"

# 7. Migrate, then hand the audit trail to a role the app cannot become (.ci/audit-owner.sh), for a server we run
#    ourselves (an external PostGIS: docs/operations.md, "The audit trail").
if [ "$DATABASE_URL" = "$DEFAULT_URL" ] || [ "${GRIDMAP_PROVISION_DB:-0}" = 1 ]; then
  DEMO_MODE="${DEMO_MODE:-true}" bash .ci/secrets.sh run .venv/bin/python manage.py migrate --noinput -v 0
  DBPORT="$DBPORT" bash .ci/audit-owner.sh "$DBNAME" "$DBUSER"
  log "audit trail: owned by gridmap_audit; $DBUSER may only read and append"
fi
