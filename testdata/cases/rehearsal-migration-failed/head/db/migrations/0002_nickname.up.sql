-- Nicknames default to the login, which users does not have.
ALTER TABLE users ADD COLUMN nickname text;
UPDATE users SET nickname = login;
