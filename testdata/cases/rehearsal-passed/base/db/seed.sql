INSERT INTO users (name) VALUES ('Anna'), ('anna'), ('Anne-Marie'), ('annemarie'), ('Zoë'), ('zoe'), ('Élise'), ('elise');
