-- Every user signs in with an email now.
ALTER TABLE users
  ADD COLUMN email text NOT NULL;
