-- a comment
-- +goose Up
SELECT 1;
