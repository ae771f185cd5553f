-- +goose Up
CREATE TABLE purchases (id bigserial PRIMARY KEY);

-- +goose Down
DROP TABLE purchases;
