SELECT 0;
-- +goose Up
SELECT 1;
