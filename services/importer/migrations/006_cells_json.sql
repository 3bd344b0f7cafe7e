-- A staged row's cells as one JSON array text instead of text[] (issue 14): asyncpg's binary array
-- encoder checks each element against three ABCs, 3× the client CPU of the staging COPY, on the one
-- core that reads the file while the other waits. The gather parses it as json (not into jsonb).
ALTER TABLE import_rows ALTER COLUMN cells TYPE text USING array_to_json(cells)::text;
