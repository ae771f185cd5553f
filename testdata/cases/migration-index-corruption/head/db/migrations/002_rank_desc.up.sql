-- Changing the order under an existing index is what a new glibc does to
-- text: the index is now out of order.
CREATE OR REPLACE FUNCTION rank_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN $1 < $2 THEN 1 WHEN $1 > $2 THEN -1 ELSE 0 END
$$;
