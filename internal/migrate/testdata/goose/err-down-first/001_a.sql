-- +goose Down
DROP TABLE x;
-- +goose Up
CREATE TABLE x (id int);
