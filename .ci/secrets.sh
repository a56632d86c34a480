#!/usr/bin/env bash
# The install's secrets (SECRET_KEY, GRIDMAP_DATA_KEY, GRIDMAP_INDEX_KEY) live in one owner-only file outside the
# repository, written once by `make setup` with random values; nothing in the code has a default secret.
#   bash .ci/secrets.sh path         the file: $GRIDMAP_SECRETS_FILE, else /etc/gridmap/secrets.env as root,
#                                    else ~/.config/gridmap/secrets.env
#   bash .ci/secrets.sh ensure       write it when missing (never overwrites: the data key opens the data)
#   bash .ci/secrets.sh run CMD...   run CMD with the file's values for the variables the environment lacks
set -euo pipefail

path() {
  if [ -n "${GRIDMAP_SECRETS_FILE:-}" ]; then echo "$GRIDMAP_SECRETS_FILE"
  elif [ "$(id -u)" -eq 0 ]; then echo /etc/gridmap/secrets.env
  else echo "${XDG_CONFIG_HOME:-$HOME/.config}/gridmap/secrets.env"; fi
}

case "${1:-}" in
  path) path ;;
  ensure)
    file="$(path)"
    if [ ! -s "$file" ]; then
      mkdir -p "$(dirname "$file")"
      ( umask 077
        python3 - > "$file.new" <<'PYEOF'
import base64, secrets
print("# GridMap secrets, written once by `make setup`. Back this file up with the database: without")
print("# GRIDMAP_DATA_KEY the sealed phones and ID numbers cannot be read. Never commit it.")
print("SECRET_KEY=" + secrets.token_urlsafe(50))
print("GRIDMAP_DATA_KEY=" + base64.b64encode(secrets.token_bytes(32)).decode())
print("GRIDMAP_INDEX_KEY=" + base64.b64encode(secrets.token_bytes(32)).decode())
PYEOF
      )
      mv "$file.new" "$file"
      echo "==> wrote new secrets to $file (owner-only; back it up with the database)" >&2
    fi
    chmod 600 "$file"
    ;;
  run)
    shift
    file="$(path)"
    if [ -r "$file" ]; then
      while IFS= read -r line; do  # NAME=value, the value taken whole (base64 ends in "=")
        name="${line%%=*}"
        case "$name" in
          SECRET_KEY|GRIDMAP_DATA_KEY|GRIDMAP_INDEX_KEY) [ -n "${!name:-}" ] || export "$name=${line#*=}" ;;
        esac
      done < "$file"
    fi
    exec "$@"
    ;;
  *) echo "usage: $0 path|ensure|run CMD..." >&2; exit 2 ;;
esac
