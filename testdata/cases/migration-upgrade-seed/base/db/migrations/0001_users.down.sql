DROP TABLE users; DROP FUNCTION users_touch();
