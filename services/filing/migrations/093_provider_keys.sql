-- The provider of a filed row: one foreign key per first filing instead of seven.
--
-- A first filing writes its provider_id into users (the sponsor account), subjects, websites,
-- accesses and applications, all in one transaction with the same value; every foreign key to
-- providers was checked per row, 7 checks of the 22 of a subject with two websites (the
-- foreign-key checks were a third of filing's PostgreSQL CPU in an import: bench/README.md,
-- Importer, "Seventh round"; issue 14). The sponsor account's key (users.provider_id) stays and
-- checks the provider of the whole filing; the other rows' provider_id comes from the same
-- value, or, for later changes (an access, a website, an application), from the authenticated
-- provider, whose user row is itself under that key. What the dropped keys also did, refuse
-- to delete a provider that still has filings, the guard below does for every provider:
-- providers are disabled, never deleted or renamed.
ALTER TABLE subjects DROP CONSTRAINT subjects_provider_id_fkey;
ALTER TABLE websites DROP CONSTRAINT websites_provider_id_fkey;
ALTER TABLE accesses DROP CONSTRAINT accesses_provider_id_fkey;
ALTER TABLE applications DROP CONSTRAINT applications_provider_id_fkey;

CREATE FUNCTION providers_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a provider is never deleted or renamed (%): disable it instead', OLD.provider_id
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER providers_are_kept BEFORE DELETE OR UPDATE OF provider_id ON providers
    FOR EACH ROW EXECUTE FUNCTION providers_are_kept();
