-- The application is stored once per case (issue 14): the current version's in cases.application, and
-- case_versions.application only for earlier versions (moved there when a new version reopens the case).
-- NULL in case_versions = the case's current version. Existing rows keep their copy.
ALTER TABLE case_versions ALTER COLUMN application DROP NOT NULL;
