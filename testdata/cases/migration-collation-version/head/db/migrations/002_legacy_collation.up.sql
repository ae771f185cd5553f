-- Restored from a dump of an older server, with the version it recorded.
CREATE COLLATION legacy (provider = icu, locale = 'und', version = '0.1');
