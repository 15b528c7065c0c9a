-- The kill switch, per node and per workspace: "stop all dropping now". The
-- agent's XDP program then drops nothing and goes on counting (log-only for
-- every rule). A change is pushed to the agents like any config change
-- (migration 005's notifications, now also on these columns).
ALTER TABLE nodes ADD COLUMN kill_switch boolean NOT NULL DEFAULT false;
ALTER TABLE workspaces ADD COLUMN kill_switch boolean NOT NULL DEFAULT false;

DROP TRIGGER nodes_config_changed ON nodes;
CREATE TRIGGER nodes_config_changed
  AFTER UPDATE OF pps_threshold, kill_switch ON nodes
  FOR EACH ROW WHEN (OLD.pps_threshold IS DISTINCT FROM NEW.pps_threshold OR OLD.kill_switch IS DISTINCT FROM NEW.kill_switch)
  EXECUTE FUNCTION breakwater_node_config_changed();

DROP TRIGGER workspaces_config_changed ON workspaces;
CREATE TRIGGER workspaces_config_changed
  AFTER UPDATE OF ioc_patterns, default_pps_threshold, kill_switch ON workspaces
  FOR EACH ROW WHEN (OLD.ioc_patterns IS DISTINCT FROM NEW.ioc_patterns
                     OR OLD.default_pps_threshold IS DISTINCT FROM NEW.default_pps_threshold
                     OR OLD.kill_switch IS DISTINCT FROM NEW.kill_switch)
  EXECUTE FUNCTION breakwater_workspace_config_changed();
