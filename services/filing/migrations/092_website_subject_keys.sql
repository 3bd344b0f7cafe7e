-- A domain's and an access's subject is their website's: one composite foreign key each,
-- (subject_id, website_id) → websites (subject_id, id), instead of one to websites and one to
-- subjects. The same integrity (a stronger one: the subject must be the website's own), with
-- one check per row instead of two; the foreign-key checks were a third of filing's PostgreSQL
-- CPU in an import (bench/README.md, Importer, "Seventh round"; issue 14).
-- The referenced unique index takes the place of websites_subject (subject_id, position): a
-- subject's few websites are still found by it and sorted by position after.
CREATE UNIQUE INDEX IF NOT EXISTS websites_subject_id ON websites (subject_id, id);  -- may be built CONCURRENTLY before (deploy/README.md)
DROP INDEX websites_subject;

ALTER TABLE domains
    DROP CONSTRAINT domains_website_id_fkey,
    DROP CONSTRAINT domains_subject_id_fkey,
    ADD CONSTRAINT domains_website_fkey FOREIGN KEY (subject_id, website_id)
        REFERENCES websites (subject_id, id) ON DELETE CASCADE;

ALTER TABLE accesses
    DROP CONSTRAINT accesses_website_id_fkey,
    DROP CONSTRAINT accesses_subject_id_fkey,
    ADD CONSTRAINT accesses_website_fkey FOREIGN KEY (subject_id, website_id)
        REFERENCES websites (subject_id, id) ON DELETE CASCADE;
