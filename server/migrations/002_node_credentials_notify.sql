-- A node whose credentials change (a new key, or the node deleted in any way,
-- also by a workspace's deletion cascading) is announced on the channel
-- breakwater_node_credentials with its UUID when the change commits: every
-- server process drops it from its credential cache (server/revocations.ts).
CREATE FUNCTION breakwater_node_credentials_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('breakwater_node_credentials', OLD.uuid::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER nodes_credentials_changed
  AFTER UPDATE OF key_hash, uuid OR DELETE ON nodes
  FOR EACH ROW EXECUTE FUNCTION breakwater_node_credentials_changed();
