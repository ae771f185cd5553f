-- migrate:up
CREATE TABLE users (id bigserial PRIMARY KEY);

-- migrate:down
DROP TABLE users;
