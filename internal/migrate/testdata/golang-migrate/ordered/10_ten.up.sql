ALTER TABLE users ADD COLUMN ten int;
