CREATE TABLE IF NOT EXISTS greetings (id serial PRIMARY KEY, text text NOT NULL);
INSERT INTO greetings (text) VALUES ('Hello from the dev container');
