-- +goose Up
ALTER TABLE t ADD COLUMN ten int;
