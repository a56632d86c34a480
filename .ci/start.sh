#!/usr/bin/env bash
# The README's two commands on any Debian 12, even one with nothing but bash (no make, sudo or curl):
#   bash .ci/start.sh run    install what is missing, provision PostgreSQL + PostGIS, migrate, load the demo, serve
#   bash .ci/start.sh test   the same provisioning, then lint, the deployment check and the whole test suite
# It installs the few tools the Makefile itself needs, then hands over to `make` (kept for developers);
# everything else (packages, database, venv, npm) is .ci/provision.sh's, which `make setup` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  run|test|setup|bench|check) ;;
  *) echo "usage: bash .ci/start.sh run|test|setup|bench|check [make variables, e.g. PORT=8080]" >&2; exit 2 ;;
esac
need=""
command -v make >/dev/null 2>&1 || need="$need make"
command -v python3 >/dev/null 2>&1 || need="$need python3"
if [ -n "$need" ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "[start] missing:$need — run as root (or install sudo) so they can be installed" >&2; exit 1
  fi
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[start] installing:$need"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
exec make "$@"
