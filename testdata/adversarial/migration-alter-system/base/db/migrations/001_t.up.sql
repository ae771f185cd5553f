CREATE TABLE t (line text);
