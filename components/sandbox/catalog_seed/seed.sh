#!/bin/sh
# Seeds a sandbox's Hive metastore database from its tier's, as of now (see seed.sql for the rules).
#
# Reads the tier's metastore database with a read-only role (pg_dump: one consistent snapshot, schema
# and rows, no owners or grants), then applies it to the sandbox's database in ONE transaction that
# also rewrites locations onto the sandbox's lakeFS branch. Safe to run any number of times: a
# database already seeded for the same SEED_ID is left exactly as it is.
#
# Environment (passwords come from Secrets, never from this script or its log):
#   SOURCE_HOST SOURCE_PORT SOURCE_DATABASE SOURCE_USER SOURCE_PASSWORD [SOURCE_SSLMODE]
#   TARGET_HOST TARGET_PORT TARGET_DATABASE TARGET_USER TARGET_PASSWORD [TARGET_SSLMODE]
#   LAKEFS_REPOSITORY SOURCE_REF SOURCE_COMMIT SANDBOX_BRANCH SEED_ID [INCLUDE_DATABASES]
#   [SEED_WORK_DIR] (default /work) [SEED_SQL] (default: seed.sql beside this script)
set -eu

for name in SOURCE_HOST SOURCE_PORT SOURCE_DATABASE SOURCE_USER SOURCE_PASSWORD \
    TARGET_HOST TARGET_PORT TARGET_DATABASE TARGET_USER TARGET_PASSWORD \
    LAKEFS_REPOSITORY SOURCE_REF SOURCE_COMMIT SANDBOX_BRANCH SEED_ID; do
    eval "value=\${$name:-}"
    if [ -z "$value" ]; then
        echo "metastore seed: environment variable $name is not set" >&2
        exit 2
    fi
done

work="${SEED_WORK_DIR:-/work}"
sql="${SEED_SQL:-$(dirname "$0")/seed.sql}"
dump="$work/tier-metastore.sql"
started=$(date +%s)

echo "metastore seed: reading $SOURCE_DATABASE on $SOURCE_HOST as $SOURCE_USER (read-only)"
PGHOST="$SOURCE_HOST" PGPORT="$SOURCE_PORT" PGDATABASE="$SOURCE_DATABASE" PGUSER="$SOURCE_USER" \
PGPASSWORD="$SOURCE_PASSWORD" PGSSLMODE="${SOURCE_SSLMODE:-prefer}" PGCONNECT_TIMEOUT=10 \
    pg_dump --schema=public --no-owner --no-privileges --no-comments --no-publications \
        --no-subscriptions --no-security-labels --no-tablespaces --file="$dump"

echo "metastore seed: applying to $TARGET_DATABASE on $TARGET_HOST"
PGHOST="$TARGET_HOST" PGPORT="$TARGET_PORT" PGDATABASE="$TARGET_DATABASE" PGUSER="$TARGET_USER" \
PGPASSWORD="$TARGET_PASSWORD" PGSSLMODE="${TARGET_SSLMODE:-prefer}" PGCONNECT_TIMEOUT=10 \
    psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 \
        -v dump="$dump" \
        -v repository="$LAKEFS_REPOSITORY" \
        -v source_ref="$SOURCE_REF" \
        -v source_commit="$SOURCE_COMMIT" \
        -v branch="$SANDBOX_BRANCH" \
        -v seed_id="$SEED_ID" \
        -v include_databases="${INCLUDE_DATABASES:-}" \
        -f "$sql"
rm -f "$dump"
echo "metastore seed: done in $(( $(date +%s) - started ))s"
