ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
