-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY ai ON a (id);

-- migrate:down
DROP INDEX ai;
