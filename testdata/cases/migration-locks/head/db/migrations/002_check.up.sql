SET lock_timeout = '2s';
-- looks like a query; Postgres reports the ALTER TABLE inside
SELECT add_qty_check();
