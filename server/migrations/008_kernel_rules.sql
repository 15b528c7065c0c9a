-- What each node's kernel really holds, as its agent last reported it
-- (POST /api/v1/agent/rules, contract/wire/kernel-rules.ts): every rule with
-- its origin and hit counters, replaced whole by each report, and the
-- program's state on the node. rule_id links a rule a command put there to
-- its mitigation rule (only one of the node's workspace).
CREATE TABLE node_kernel_rules (
  node_id    bigint NOT NULL REFERENCES nodes ON DELETE CASCADE,
  source     cidr NOT NULL,
  protocol   text CHECK (protocol IN ('tcp', 'udp', 'icmp')),
  port       integer CHECK (port BETWEEN 1 AND 65535),
  icmp_type  integer CHECK (icmp_type BETWEEN 0 AND 255),
  mode       text NOT NULL CHECK (mode IN ('drop', 'log')),
  expires_at timestamptz,
  origin     text NOT NULL CHECK (origin IN ('command', 'local', 'unknown')),
  rule_id    bigint REFERENCES mitigation_rules ON DELETE SET NULL,
  packets    bigint NOT NULL,
  bytes      bigint NOT NULL
);
CREATE INDEX node_kernel_rules_node ON node_kernel_rules (node_id, source);
CREATE INDEX node_kernel_rules_rule ON node_kernel_rules (rule_id) WHERE rule_id IS NOT NULL;

-- The latest report's state: when it came, whether the XDP program was
-- attached, the kernel's kill switch, the attach mode, and whether the report
-- carried only part of the rules (then nothing is concluded from an absence).
ALTER TABLE nodes
  ADD COLUMN kernel_reported_at timestamptz,
  ADD COLUMN kernel_attached boolean,
  ADD COLUMN kernel_kill_switch boolean,
  ADD COLUMN kernel_xdp_mode text,
  ADD COLUMN kernel_truncated boolean;

-- A command the node's kernel report contradicted (an applied rule missing
-- after a restart, a detach or a reboot; a removed one back) is replaced by a
-- new command of the same op, which the push channel delivers; the old row
-- keeps its history with the time it was replaced. Everything that reads a
-- rule's state per node reads the rows not replaced.
ALTER TABLE node_commands ADD COLUMN superseded_at timestamptz;
