-- Every process keeps the revoked session ids of its schema in memory; an insert here
-- tells them at once (delivered at commit), so authentication needs no query per request.
CREATE FUNCTION notify_revoked_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('icp_revoked_' || TG_TABLE_SCHEMA, NEW.session_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER revoked_sessions_notify AFTER INSERT ON revoked_sessions
    FOR EACH ROW EXECUTE FUNCTION notify_revoked_session();
