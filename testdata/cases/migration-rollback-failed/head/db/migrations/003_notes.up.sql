CREATE TABLE notes (id int, body text);
