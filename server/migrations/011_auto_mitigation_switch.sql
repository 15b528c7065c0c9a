-- Local auto-mitigation switched per node from the server (PUT
-- /api/v1/nodes/:id/auto-mitigation): true or false over the agent's
-- --auto-mitigate, null leaves the agent's setting. Pushed like every config
-- change.
ALTER TABLE nodes ADD COLUMN auto_mitigate boolean;

DROP TRIGGER nodes_config_changed ON nodes;
CREATE TRIGGER nodes_config_changed
  AFTER UPDATE OF pps_threshold, kill_switch, threshold_mode, bps_threshold, floor_pps, auto_mitigate ON nodes
  FOR EACH ROW WHEN (OLD.pps_threshold IS DISTINCT FROM NEW.pps_threshold OR OLD.kill_switch IS DISTINCT FROM NEW.kill_switch
                     OR OLD.threshold_mode IS DISTINCT FROM NEW.threshold_mode OR OLD.bps_threshold IS DISTINCT FROM NEW.bps_threshold
                     OR OLD.floor_pps IS DISTINCT FROM NEW.floor_pps OR OLD.auto_mitigate IS DISTINCT FROM NEW.auto_mitigate)
  EXECUTE FUNCTION breakwater_node_config_changed();
