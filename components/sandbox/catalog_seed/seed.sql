-- Seeds a sandbox's Hive metastore database from a pg_dump of its tier's (run by seed.sh, or by hand
-- with the same psql variables). Everything happens in ONE transaction: the sandbox's catalog is
-- either the previous one, untouched, or the complete new one.
--
-- psql variables: dump (path of the plain pg_dump), repository, source_ref, source_commit, branch,
-- seed_id, include_databases (comma-separated Hive database names; empty = every database).
--
-- The rules, in order:
-- 1. Already seeded for this seed_id (the same snapshot, branch and database selection): nothing
--    changes. A Job rerun for any other reason (new image, Job deleted by a TTL) loses nothing.
-- 2. A previous catalog (an older snapshot) is kept, renamed to schema catalog_before_<UTC time>.
-- 3. The tier's catalog is restored into schema public.
-- 4. Databases outside include_databases are removed with their tables.
-- 5. A location is "on the source ref" when it is <scheme>://<repository>/<ref>[/...] with scheme
--    s3a, s3 (lakeFS's S3 gateway) or lakefs, and ref the source ref or the source commit id.
--    A table whose own location or any partition's (or skewed-value) location is set and NOT on the
--    source ref is removed from the sandbox's catalog: it would let the sandbox write production
--    data, or data outside its branch. Each one is logged by name and recorded in
--    pipeline_sandbox.seed_report.
-- 6. Every location on the source ref is rewritten to the same path on the sandbox's branch.
--    Catalog and database locations (defaults for new tables) that are not on the source ref are
--    re-pointed to s3a://<repository>/<branch>/_sandbox_warehouse[/<database>.db].
-- 7. Check: no catalog, database, table, partition or skewed-value location is left outside the
--    branch; otherwise the transaction fails and nothing changes.

\set ON_ERROR_STOP on
-- Only the report at the end goes to the log; \echo lines always do.
\o /dev/null
SET client_min_messages = warning;
BEGIN;
-- One seed at a time, whatever runs it.
SELECT pg_advisory_xact_lock(hashtext('pipeline-sandbox/metastore-seed'));

CREATE SCHEMA IF NOT EXISTS pipeline_sandbox;
CREATE TABLE IF NOT EXISTS pipeline_sandbox.seed (
    seed_id text NOT NULL,
    repository text NOT NULL,
    source_ref text NOT NULL,
    source_commit text NOT NULL,
    branch text NOT NULL,
    include_databases text NOT NULL,
    seeded_at timestamptz NOT NULL,
    databases integer NOT NULL,
    tables integer NOT NULL,
    partitions integer NOT NULL,
    removed_tables integer NOT NULL,
    previous_catalog text
);
CREATE TABLE IF NOT EXISTS pipeline_sandbox.seed_report (
    database_name text NOT NULL,
    table_name text,
    reason text NOT NULL,
    location text
);

SELECT EXISTS (SELECT FROM pipeline_sandbox.seed WHERE seed_id = :'seed_id') AS already_seeded \gset
\if :already_seeded
SELECT format('metastore seed: already seeded from %s (%s) for branch %s at %s; nothing to do',
              source_ref, source_commit, branch, seeded_at) AS message
  FROM pipeline_sandbox.seed \gset
\echo :message
COMMIT;
\quit
\endif

-- 2. Keep a previous catalog rather than lose what the sandbox did with it.
SELECT EXISTS (SELECT FROM pg_tables WHERE schemaname = 'public') AS has_catalog,
       'catalog_before_' || lower(to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')) AS archive \gset
\if :has_catalog
ALTER SCHEMA public RENAME TO :"archive";
\echo 'metastore seed: the previous catalog is kept as schema' :archive
\else
DROP SCHEMA IF EXISTS public;
\endif

-- 3. The tier's catalog. A dump of one schema creates it (PostgreSQL 15 and newer), sets search_path
-- to '' and qualifies every name.
\i :dump
SET LOCAL search_path = public;

CREATE TEMPORARY TABLE seed_params ON COMMIT DROP AS
SELECT :'repository'::text AS repository,
       :'source_ref'::text AS source_ref,
       :'source_commit'::text AS source_commit,
       :'branch'::text AS branch,
       CASE WHEN btrim(:'include_databases') = '' THEN NULL
            ELSE string_to_array(lower(regexp_replace(:'include_databases', '\s', '', 'g')), ',')
       END AS include_databases;

-- A regular expression matching `text` literally.
CREATE FUNCTION pg_temp.literal(value text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT regexp_replace(value, '([.^$*+?()\[\]{}|\\])', '\\\1', 'g') $$;

-- ^(s3a|s3|lakefs)://<repository>/(<source ref>|<source commit>)(/|$)
CREATE FUNCTION pg_temp.source_pattern() RETURNS text LANGUAGE sql STABLE
AS $$ SELECT '^(s3a|s3|lakefs)://' || pg_temp.literal(repository) || '/('
             || pg_temp.literal(source_ref) || '|' || pg_temp.literal(source_commit) || ')(/|$)'
        FROM seed_params $$;

CREATE FUNCTION pg_temp.on_source_ref(location text) RETURNS boolean LANGUAGE sql STABLE
AS $$ SELECT location ~ pg_temp.source_pattern() $$;

CREATE FUNCTION pg_temp.unset(location text) RETURNS boolean LANGUAGE sql IMMUTABLE
AS $$ SELECT location IS NULL OR btrim(location) = '' $$;

CREATE FUNCTION pg_temp.to_branch(location text) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT regexp_replace(location, pg_temp.source_pattern(),
                            '\1://' || repository || '/' || branch || '\3')
        FROM seed_params $$;

CREATE FUNCTION pg_temp.on_branch(location text) RETURNS boolean LANGUAGE sql STABLE
AS $$ SELECT location ~ ('^(s3a|s3|lakefs)://' || pg_temp.literal(repository) || '/'
                         || pg_temp.literal(branch) || '(/|$)')
        FROM seed_params $$;

CREATE FUNCTION pg_temp.sandbox_warehouse() RETURNS text LANGUAGE sql STABLE
AS $$ SELECT 's3a://' || repository || '/' || branch || '/_sandbox_warehouse' FROM seed_params $$;

-- Deletes rows of `target` whose `key_column` is in `ids`, and first, recursively, every row that
-- references them through a foreign key (the metastore's keys are not ON DELETE CASCADE).
CREATE FUNCTION pg_temp.purge(target regclass, key_column name, ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    fk record;
    referenced record;
    child_ids bigint[];
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    FOR fk IN
        SELECT c.conrelid::regclass AS child, a.attname AS child_column
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
          JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND c.confrelid = target AND r.attname = key_column
           AND cardinality(c.conkey) = 1 AND c.conrelid <> target
    LOOP
        FOR referenced IN
            SELECT DISTINCT r2.attname AS key
              FROM pg_constraint c2
              JOIN pg_attribute r2 ON r2.attrelid = c2.confrelid AND r2.attnum = c2.confkey[1]
             WHERE c2.contype = 'f' AND c2.confrelid = fk.child AND c2.conrelid <> fk.child
        LOOP
            EXECUTE format('SELECT array_agg(%I) FROM %s WHERE %I = ANY($1)',
                           referenced.key, fk.child, fk.child_column)
               INTO child_ids USING ids;
            PERFORM pg_temp.purge(fk.child, referenced.key, child_ids);
        END LOOP;
        EXECUTE format('DELETE FROM %s WHERE %I = ANY($1)', fk.child, fk.child_column) USING ids;
    END LOOP;
    EXECUTE format('DELETE FROM %s WHERE %I = ANY($1)', target, key_column) USING ids;
END $$;

-- 4. and 5. What leaves the sandbox's catalog, and why.
CREATE TEMPORARY TABLE removed_tables ON COMMIT DROP AS
SELECT t."TBL_ID" AS tbl_id, d."NAME" AS database_name, t."TBL_NAME" AS table_name,
       'database not in include_databases'::text AS reason, NULL::text AS location
  FROM "TBLS" t JOIN "DBS" d ON d."DB_ID" = t."DB_ID", seed_params p
 WHERE p.include_databases IS NOT NULL AND NOT (lower(d."NAME") = ANY (p.include_databases));

WITH table_locations AS (
    SELECT t."TBL_ID" AS tbl_id, s."LOCATION" AS location
      FROM "TBLS" t JOIN "SDS" s ON s."SD_ID" = t."SD_ID"
    UNION ALL
    SELECT p."TBL_ID", s."LOCATION"
      FROM "PARTITIONS" p JOIN "SDS" s ON s."SD_ID" = p."SD_ID"
    UNION ALL
    SELECT t."TBL_ID", m."LOCATION"
      FROM "TBLS" t JOIN "SKEWED_COL_VALUE_LOC_MAP" m ON m."SD_ID" = t."SD_ID"
    UNION ALL
    SELECT p."TBL_ID", m."LOCATION"
      FROM "PARTITIONS" p JOIN "SKEWED_COL_VALUE_LOC_MAP" m ON m."SD_ID" = p."SD_ID"
), elsewhere AS (
    SELECT tbl_id, min(location) AS location
      FROM table_locations
     WHERE NOT pg_temp.unset(location) AND NOT pg_temp.on_source_ref(location)
     GROUP BY tbl_id
)
INSERT INTO removed_tables
SELECT t."TBL_ID", d."NAME", t."TBL_NAME",
       'location outside ' || p.repository || '/' || p.source_ref, e.location
  FROM elsewhere e
  JOIN "TBLS" t ON t."TBL_ID" = e.tbl_id
  JOIN "DBS" d ON d."DB_ID" = t."DB_ID", seed_params p
 WHERE t."TBL_ID" NOT IN (SELECT tbl_id FROM removed_tables);

DELETE FROM pipeline_sandbox.seed_report;
INSERT INTO pipeline_sandbox.seed_report (database_name, table_name, reason, location)
SELECT d."NAME", NULL, 'database not in include_databases', d."DB_LOCATION_URI"
  FROM "DBS" d, seed_params p
 WHERE p.include_databases IS NOT NULL AND NOT (lower(d."NAME") = ANY (p.include_databases));
INSERT INTO pipeline_sandbox.seed_report (database_name, table_name, reason, location)
SELECT database_name, table_name, reason, location FROM removed_tables;

-- Storage descriptors of removed tables and their partitions, before the rows that point to them go.
CREATE TEMPORARY TABLE removed_sds ON COMMIT DROP AS
SELECT t."SD_ID" AS sd_id FROM "TBLS" t WHERE t."TBL_ID" IN (SELECT tbl_id FROM removed_tables)
UNION
SELECT p."SD_ID" FROM "PARTITIONS" p WHERE p."TBL_ID" IN (SELECT tbl_id FROM removed_tables);
CREATE TEMPORARY TABLE removed_parts ON COMMIT DROP AS
SELECT s."CD_ID" AS cd_id, s."SERDE_ID" AS serde_id
  FROM "SDS" s WHERE s."SD_ID" IN (SELECT sd_id FROM removed_sds);

-- Constraints and materialized-view metadata name tables without a foreign key.
DELETE FROM "KEY_CONSTRAINTS"
 WHERE "PARENT_TBL_ID" IN (SELECT tbl_id FROM removed_tables)
    OR "CHILD_TBL_ID" IN (SELECT tbl_id FROM removed_tables);
SELECT pg_temp.purge('"MV_CREATION_METADATA"', 'MV_CREATION_METADATA_ID',
                     (SELECT array_agg(m."MV_CREATION_METADATA_ID")
                        FROM "MV_CREATION_METADATA" m JOIN removed_tables r
                          ON m."DB_NAME" = r.database_name AND m."TBL_NAME" = r.table_name));
SELECT pg_temp.purge('"TBLS"', 'TBL_ID', (SELECT array_agg(tbl_id) FROM removed_tables));
SELECT pg_temp.purge('"SDS"', 'SD_ID',
                     (SELECT array_agg(sd_id) FROM removed_sds
                       WHERE sd_id NOT IN (SELECT "SD_ID" FROM "TBLS" WHERE "SD_ID" IS NOT NULL
                                           UNION SELECT "SD_ID" FROM "PARTITIONS" WHERE "SD_ID" IS NOT NULL)));
SELECT pg_temp.purge('"CDS"', 'CD_ID',
                     (SELECT array_agg(DISTINCT cd_id) FROM removed_parts
                       WHERE cd_id NOT IN (SELECT "CD_ID" FROM "SDS" WHERE "CD_ID" IS NOT NULL)));
SELECT pg_temp.purge('"SERDES"', 'SERDE_ID',
                     (SELECT array_agg(DISTINCT serde_id) FROM removed_parts
                       WHERE serde_id NOT IN (SELECT "SERDE_ID" FROM "SDS" WHERE "SERDE_ID" IS NOT NULL)));
SELECT pg_temp.purge('"DBS"', 'DB_ID',
                     (SELECT array_agg(d."DB_ID") FROM "DBS" d, seed_params p
                       WHERE p.include_databases IS NOT NULL
                         AND NOT (lower(d."NAME") = ANY (p.include_databases))));

-- 6. Onto the sandbox's branch.
UPDATE "SDS" SET "LOCATION" = pg_temp.to_branch("LOCATION") WHERE pg_temp.on_source_ref("LOCATION");
UPDATE "SKEWED_COL_VALUE_LOC_MAP" SET "LOCATION" = pg_temp.to_branch("LOCATION")
 WHERE pg_temp.on_source_ref("LOCATION");
UPDATE "FUNC_RU" SET "RESOURCE_URI" = pg_temp.to_branch("RESOURCE_URI")
 WHERE pg_temp.on_source_ref("RESOURCE_URI");
UPDATE "DBS" SET "DB_LOCATION_URI" = CASE
        WHEN pg_temp.on_source_ref("DB_LOCATION_URI") THEN pg_temp.to_branch("DB_LOCATION_URI")
        ELSE pg_temp.sandbox_warehouse() || '/' || lower("NAME") || '.db' END,
    "DB_MANAGED_LOCATION_URI" = CASE
        WHEN pg_temp.unset("DB_MANAGED_LOCATION_URI") THEN "DB_MANAGED_LOCATION_URI"
        WHEN pg_temp.on_source_ref("DB_MANAGED_LOCATION_URI") THEN pg_temp.to_branch("DB_MANAGED_LOCATION_URI")
        ELSE pg_temp.sandbox_warehouse() || '/' || lower("NAME") || '.db' END;
UPDATE "CTLGS" SET "LOCATION_URI" = CASE
        WHEN pg_temp.on_source_ref("LOCATION_URI") THEN pg_temp.to_branch("LOCATION_URI")
        ELSE pg_temp.sandbox_warehouse() END;

-- 7. The invariant, checked rather than assumed.
DO $$
DECLARE
    stray text;
BEGIN
    SELECT location INTO stray FROM (
        SELECT "LOCATION" AS location FROM "SDS"
        UNION ALL SELECT "LOCATION" FROM "SKEWED_COL_VALUE_LOC_MAP"
        UNION ALL SELECT "DB_LOCATION_URI" FROM "DBS"
        UNION ALL SELECT "DB_MANAGED_LOCATION_URI" FROM "DBS"
        UNION ALL SELECT "LOCATION_URI" FROM "CTLGS"
    ) l
    WHERE NOT pg_temp.unset(location) AND NOT pg_temp.on_branch(location)
    LIMIT 1;
    IF stray IS NOT NULL THEN
        RAISE EXCEPTION 'metastore seed: location % would be outside the sandbox branch; nothing changed',
            stray;
    END IF;
END $$;

DELETE FROM pipeline_sandbox.seed;
INSERT INTO pipeline_sandbox.seed
SELECT :'seed_id', p.repository, p.source_ref, p.source_commit, p.branch, :'include_databases', now(),
       (SELECT count(*) FROM "DBS"), (SELECT count(*) FROM "TBLS"), (SELECT count(*) FROM "PARTITIONS"),
       (SELECT count(*) FROM removed_tables),
       CASE WHEN :'has_catalog' THEN :'archive' END
  FROM seed_params p;

\o
\pset footer off
\pset tuples_only on
\pset format unaligned
SELECT format('metastore seed: removed %s (%s): %s',
              coalesce(database_name || '.' || table_name, 'database ' || database_name),
              reason, coalesce(location, '-'))
  FROM pipeline_sandbox.seed_report ORDER BY database_name, table_name NULLS FIRST;
SELECT format('metastore seed: seeded %s databases, %s tables, %s partitions from %s/%s (%s) onto '
              || 'branch %s; %s tables removed (listed above; see pipeline_sandbox.seed_report)',
              databases, tables, partitions, repository, source_ref, source_commit, branch, removed_tables)
  FROM pipeline_sandbox.seed;
COMMIT;
