-- The first table (comment added after release: nothing that ran changes).
CREATE TABLE t (id int);
