-- migrate:up transaction:maybe
SELECT 1;
