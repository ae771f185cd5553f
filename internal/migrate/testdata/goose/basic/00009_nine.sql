-- +goose Up
-- +goose ENVSUB ON
ALTER TABLE t ADD COLUMN nine int;
-- +goose ENVSUB OFF
