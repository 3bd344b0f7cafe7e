-- The handler's username beside the user id, for the history's 处理人 column.
ALTER TABLE handlings ADD COLUMN handled_by_name text NOT NULL DEFAULT '';
