CREATE TABLE effects (id bigserial PRIMARY KEY, n integer NOT NULL);
