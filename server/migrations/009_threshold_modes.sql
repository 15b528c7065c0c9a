-- Thresholds per node and as the workspace's default (contract/wire/user.ts,
-- the formula in docs/detection.md): the mode ('static': the operator's
-- values are the thresholds; 'dynamic': the baseline's, the operator's as
-- caps), a bits-per-second threshold, and the dynamic threshold's floor. A
-- node's null takes the workspace's. Pushed like every config change.
ALTER TABLE nodes
  ADD COLUMN threshold_mode text CHECK (threshold_mode IN ('static', 'dynamic')),
  ADD COLUMN bps_threshold bigint CHECK (bps_threshold > 0),
  ADD COLUMN floor_pps bigint CHECK (floor_pps > 0);
ALTER TABLE workspaces
  ADD COLUMN default_threshold_mode text NOT NULL DEFAULT 'dynamic' CHECK (default_threshold_mode IN ('static', 'dynamic')),
  ADD COLUMN default_bps_threshold bigint CHECK (default_bps_threshold > 0),
  ADD COLUMN default_floor_pps bigint CHECK (default_floor_pps > 0);

DROP TRIGGER nodes_config_changed ON nodes;
CREATE TRIGGER nodes_config_changed
  AFTER UPDATE OF pps_threshold, kill_switch, threshold_mode, bps_threshold, floor_pps ON nodes
  FOR EACH ROW WHEN (OLD.pps_threshold IS DISTINCT FROM NEW.pps_threshold OR OLD.kill_switch IS DISTINCT FROM NEW.kill_switch
                     OR OLD.threshold_mode IS DISTINCT FROM NEW.threshold_mode OR OLD.bps_threshold IS DISTINCT FROM NEW.bps_threshold
                     OR OLD.floor_pps IS DISTINCT FROM NEW.floor_pps)
  EXECUTE FUNCTION breakwater_node_config_changed();

DROP TRIGGER workspaces_config_changed ON workspaces;
CREATE TRIGGER workspaces_config_changed
  AFTER UPDATE OF ioc_patterns, default_pps_threshold, kill_switch, default_threshold_mode, default_bps_threshold, default_floor_pps
  ON workspaces
  FOR EACH ROW WHEN (OLD.ioc_patterns IS DISTINCT FROM NEW.ioc_patterns
                     OR OLD.default_pps_threshold IS DISTINCT FROM NEW.default_pps_threshold
                     OR OLD.kill_switch IS DISTINCT FROM NEW.kill_switch
                     OR OLD.default_threshold_mode IS DISTINCT FROM NEW.default_threshold_mode
                     OR OLD.default_bps_threshold IS DISTINCT FROM NEW.default_bps_threshold
                     OR OLD.default_floor_pps IS DISTINCT FROM NEW.default_floor_pps)
  EXECUTE FUNCTION breakwater_workspace_config_changed();
