SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN age int;
ALTER TABLE users RENAME COLUMN handle TO nick;
ALTER TABLE users DROP COLUMN bio;
