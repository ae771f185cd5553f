-- migrate:up
CREATE TABLE orders (id bigserial PRIMARY KEY);

-- migrate:down
DROP TABLE orders;
