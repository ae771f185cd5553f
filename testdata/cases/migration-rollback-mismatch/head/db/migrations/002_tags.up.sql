CREATE TABLE tags (id int, name text);
CREATE SEQUENCE tag_ids;
