-- migrate:up
-- Written on a branch that merged after 20240110000000.
ALTER TABLE orders ADD COLUMN total numeric;

-- migrate:down
ALTER TABLE orders DROP COLUMN total;
