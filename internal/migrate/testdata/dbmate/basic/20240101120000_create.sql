-- migrate:up
CREATE TABLE a (
  id int
);
INSERT INTO a VALUES (1);

-- migrate:down
DROP TABLE a;
