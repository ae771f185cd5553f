CREATE TABLE users (id int PRIMARY KEY, email text, nick text, age int);
