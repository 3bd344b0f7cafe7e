-- The dry run's payload of a chunk (issue 14): each item's rule keys and generated username only,
-- sealed for filing under its own context (`filing.batch.check` with `keys_only`). The full items
-- (`items`) then travel once, with the import. NULL for a chunk planned before this column.
ALTER TABLE import_chunks ADD COLUMN check_items text;
