-- Users sign in with their email.
ALTER TABLE users ADD COLUMN email text NOT NULL;
