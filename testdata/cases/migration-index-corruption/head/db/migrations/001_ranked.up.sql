-- A B-tree ordered by a comparison function of our own: what a collation
-- is to text.
CREATE FUNCTION rank_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END
$$;

CREATE OPERATOR CLASS rank_ops FOR TYPE int USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
  FUNCTION 1 rank_cmp(int, int);

CREATE TABLE ranked (r int NOT NULL);
INSERT INTO ranked SELECT g FROM generate_series(1, 2000) g;
CREATE INDEX ranked_r ON ranked (r rank_ops);
