DROP FUNCTION add_qty_check();
DROP TABLE orders;
