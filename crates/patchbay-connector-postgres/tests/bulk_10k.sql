-- The 10,000-table schema used by the autocomplete tests and the sql_probes
-- bench. Idempotent; commits every 500 tables so one transaction never holds
-- more locks than the lock table has room for. Kept between runs on purpose
-- (creating it is the slow part); drop it with DROP SCHEMA … CASCADE in
-- batches if it is ever in the way.
DO $$
BEGIN
  IF (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'patchbay_bulk_10k' AND c.relkind = 'r') >= 10000 THEN
    RETURN;
  END IF;
  CREATE SCHEMA IF NOT EXISTS patchbay_bulk_10k;
  FOR i IN 1..10000 LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS patchbay_bulk_10k.t%s (id int)', lpad(i::text, 5, '0'));
    IF i % 500 = 0 THEN
      COMMIT;
    END IF;
  END LOOP;
END
$$
