CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL);
CREATE INDEX customers_name ON customers (name);
