-- +goose Up
SELECT 2;
