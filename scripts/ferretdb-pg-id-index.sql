-- FerretDB 1.24 on PostgreSQL: make lookups by _id use an index.
--
-- FerretDB 1.24 filters {_id: v} as `(_jsonb -> '_id') @> v`, which its own unique btree index
-- on `(_jsonb -> '_id')` cannot serve: every point read, update, upsert and findAndModify by _id
-- scans the whole table (FerretDB issue #4646). Measured on FerretDB 1.24.2 / PostgreSQL 15 here:
-- a point read took 3.5 ms at 300 documents and 16 ms at 20,000; with a GIN index on the same
-- expression, 2.6-3.4 ms at 20,000 (update 18 -> 4.4 ms, upsert 19 -> 4.3 ms, findAndModify
-- 18.6 -> 5.0 ms). enrichbot reads and writes by _id everywhere, so without this its cost per
-- job grows with every collection's size.
--
-- Run it once in the PostgreSQL database FerretDB uses (psql -d <that database> -f this file):
-- it indexes every FerretDB table there now, and an event trigger indexes each table FerretDB
-- creates later (a new collection). Needs a superuser (event triggers). Harmless to run again.
-- `scripts/services.sh` runs it for CI, `npm test` and `npm run dev`. Not needed on MongoDB.

CREATE OR REPLACE FUNCTION enrichbot_ferretdb_index_id(tbl oid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- FerretDB's collections are tables with a `_jsonb` column (its metadata table has none).
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped) THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops) WITH (fastupdate = off)',
      left((SELECT relname FROM pg_class WHERE oid = tbl), 50) || '_id_gin', tbl::regclass, '_id');
  END IF;
END $$;

CREATE OR REPLACE FUNCTION enrichbot_ferretdb_id_index_trigger() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM enrichbot_ferretdb_index_id(r.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS enrichbot_ferretdb_id_index;
CREATE EVENT TRIGGER enrichbot_ferretdb_id_index ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION enrichbot_ferretdb_id_index_trigger();

-- Tables FerretDB created before this ran.
SELECT enrichbot_ferretdb_index_id(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema');
