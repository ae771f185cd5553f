CREATE TABLE orders (id int PRIMARY KEY, qty int);
CREATE FUNCTION add_qty_check() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0);
END $$;
