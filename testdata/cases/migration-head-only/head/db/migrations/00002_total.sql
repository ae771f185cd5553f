-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
  RAISE NOTICE 'adding total';
END
$$;
-- +goose StatementEnd
ALTER TABLE orders ADD COLUMN total numeric;

-- +goose Down
ALTER TABLE orders DROP COLUMN total;
