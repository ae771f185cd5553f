-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.updated = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TABLE t (id int);

-- a comment
INSERT INTO t VALUES (1);

-- +goose Down
DROP TABLE t;
DROP FUNCTION touch();
