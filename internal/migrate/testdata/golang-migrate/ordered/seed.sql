INSERT INTO users VALUES (1, 'not a migration');
