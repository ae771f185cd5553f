ALTER TABLE users ADD COLUMN nine int;
