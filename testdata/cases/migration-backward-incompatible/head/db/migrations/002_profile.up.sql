SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN bio text;
ALTER TABLE users RENAME COLUMN nick TO handle;
ALTER TABLE users DROP COLUMN age;
