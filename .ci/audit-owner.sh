#!/usr/bin/env bash
# The audit trail belongs to a role the app cannot become: gridmap_auditevent is owned by the NOLOGIN role
# gridmap_audit, and the app's role keeps SELECT and INSERT on it (and USAGE on its id sequence), nothing else,
# so it can neither UPDATE, DELETE nor TRUNCATE events nor disable or drop the append-only and time triggers.
# Needs a PostgreSQL superuser: run by `make setup` for the local server after `migrate` (idempotent).
#   bash .ci/audit-owner.sh [DBNAME [APPROLE]]          hand the table to gridmap_audit
#   bash .ci/audit-owner.sh --return [DBNAME [APPROLE]] give it back to the app's role (before a migration
#                                                        that changes the audit table; then run this again)
# For an external PostGIS, a superuser runs the same SQL (docs/operations.md, "The audit trail").
set -euo pipefail
back=0; [ "${1:-}" = "--return" ] && { back=1; shift; }
db="${1:-gridmap}"; app="${2:-gridmap}"; port="${DBPORT:-5432}"
psql_su() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$port" -d "$db" "$@"
  else sudo -u postgres psql -v ON_ERROR_STOP=1 -qAt -p "$port" -d "$db" "$@"; fi
}
if [ "$back" = 1 ]; then
  psql_su -c "ALTER TABLE gridmap_auditevent OWNER TO \"$app\""
  exit 0
fi
psql_su <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gridmap_audit') THEN
    CREATE ROLE gridmap_audit NOLOGIN;
  END IF;
END \$\$;
ALTER TABLE gridmap_auditevent OWNER TO gridmap_audit;
REVOKE ALL ON gridmap_auditevent FROM "$app";
GRANT SELECT, INSERT ON gridmap_auditevent TO "$app";
DO \$\$ DECLARE seq text := pg_get_serial_sequence('gridmap_auditevent', 'id'); BEGIN
  IF seq IS NOT NULL THEN EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', seq, '$app'); END IF;
END \$\$;
SQL
