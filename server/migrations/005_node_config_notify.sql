-- A change to what GET /config answers a node is announced on the channel
-- breakwater_node_config when it commits, so that the server process holding
-- that node's push stream (GET /api/v1/agent/events, server/push.ts) sends
-- the new config at once, whichever process made the change. The payload is
-- the node's id, or 'w' and the workspace's id for a change to every node of
-- a workspace. Baselines are left out: they change for every node at each
-- maintenance run and are not urgent (the agent's poll brings them); so is a
-- command's answer (an update: the agent itself sent it).
CREATE FUNCTION breakwater_commands_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('breakwater_node_config', n.node_id::text) FROM (SELECT DISTINCT node_id FROM changed) n;
  RETURN NULL;
END;
$$;

CREATE TRIGGER node_commands_inserted
  AFTER INSERT ON node_commands REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION breakwater_commands_changed();

CREATE FUNCTION breakwater_node_config_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('breakwater_node_config', NEW.id::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER nodes_config_changed
  AFTER UPDATE OF pps_threshold ON nodes
  FOR EACH ROW WHEN (OLD.pps_threshold IS DISTINCT FROM NEW.pps_threshold)
  EXECUTE FUNCTION breakwater_node_config_changed();

CREATE FUNCTION breakwater_workspace_config_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('breakwater_node_config', 'w' || NEW.id::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER workspaces_config_changed
  AFTER UPDATE OF ioc_patterns, default_pps_threshold ON workspaces
  FOR EACH ROW WHEN (OLD.ioc_patterns IS DISTINCT FROM NEW.ioc_patterns
                     OR OLD.default_pps_threshold IS DISTINCT FROM NEW.default_pps_threshold)
  EXECUTE FUNCTION breakwater_workspace_config_changed();
