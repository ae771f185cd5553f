INSERT INTO orders SELECT g, 1 + g % 9 FROM generate_series(1, 1000) g;
