-- the table was called memo on an old branch
DROP TABLE memo;
