-- The kernel's state as each heartbeat carries it (POST /api/v1/agent/heartbeat,
-- extension fields of contract/wire/agent.ts): its kill switch, its log-only
-- rules and all its rules, and when a heartbeat last said so. Null until an
-- agent that sends them does. The kernel-rules report (migration 008) says
-- the kill switch too; the newer of the two is the kill switch in force.
ALTER TABLE nodes
  ADD COLUMN heartbeat_kernel_at timestamptz,
  ADD COLUMN heartbeat_kill_switch boolean,
  ADD COLUMN heartbeat_log_only_rules integer,
  ADD COLUMN heartbeat_rules_in_kernel integer;

-- When the kill switch was last set to another value (node's and workspace's),
-- so that a kernel still in the other state past a grace time is a mismatch
-- rather than a change on its way. Null: not changed since this migration.
ALTER TABLE nodes ADD COLUMN kill_switch_changed_at timestamptz;
ALTER TABLE workspaces ADD COLUMN kill_switch_changed_at timestamptz;

CREATE FUNCTION breakwater_kill_switch_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.kill_switch_changed_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER nodes_kill_switch_changed
  BEFORE UPDATE OF kill_switch ON nodes
  FOR EACH ROW WHEN (OLD.kill_switch IS DISTINCT FROM NEW.kill_switch)
  EXECUTE FUNCTION breakwater_kill_switch_changed();

CREATE TRIGGER workspaces_kill_switch_changed
  BEFORE UPDATE OF kill_switch ON workspaces
  FOR EACH ROW WHEN (OLD.kill_switch IS DISTINCT FROM NEW.kill_switch)
  EXECUTE FUNCTION breakwater_kill_switch_changed();
