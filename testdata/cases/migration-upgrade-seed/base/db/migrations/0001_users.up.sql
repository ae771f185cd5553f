CREATE TABLE users (
  id bigserial PRIMARY KEY,
  name text NOT NULL
);

-- A dollar-quoted body with semicolons inside survives the split.
CREATE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := trim(NEW.name);
  RETURN NEW;
END;
$$;

CREATE TRIGGER users_touch BEFORE INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION users_touch();
