-- Response policies (contract/wire/policy.ts): what the server does by itself
-- when an incident is reported. The rules a policy makes say which policy
-- and which incident they came from; a policy's firing on a node is kept for
-- its cooldown and so that one incident makes its rules once.
CREATE TABLE response_policies (
  id                     bigserial PRIMARY KEY,
  workspace_id           bigint NOT NULL REFERENCES workspaces ON DELETE CASCADE,
  name                   text NOT NULL,
  enabled                boolean NOT NULL DEFAULT true,
  conditions             jsonb NOT NULL DEFAULT '{}',
  action                 jsonb NOT NULL,
  scope                  text NOT NULL DEFAULT 'node' CHECK (scope IN ('node', 'workspace')),
  dry_run                boolean NOT NULL DEFAULT false,
  ttl_seconds            integer NOT NULL CHECK (ttl_seconds > 0),
  cooldown_seconds       integer NOT NULL CHECK (cooldown_seconds >= 0),
  max_rules              integer NOT NULL CHECK (max_rules > 0),
  withdraw_grace_seconds integer NOT NULL CHECK (withdraw_grace_seconds >= 0),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX response_policies_workspace ON response_policies (workspace_id, id);

-- One row per policy and incident it acted on (dry runs included).
CREATE TABLE policy_firings (
  policy_id   bigint NOT NULL REFERENCES response_policies ON DELETE CASCADE,
  incident_id bigint NOT NULL REFERENCES incidents ON DELETE CASCADE,
  node_id     bigint NOT NULL REFERENCES nodes ON DELETE CASCADE,
  fired_at    timestamptz NOT NULL DEFAULT now(),
  -- The sources it acted on for the incident (dry runs included: what it would have dropped).
  sources     text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (policy_id, incident_id)
);
CREATE INDEX policy_firings_node ON policy_firings (policy_id, node_id, fired_at DESC);

ALTER TABLE mitigation_rules
  ADD COLUMN policy_id bigint REFERENCES response_policies ON DELETE SET NULL,
  ADD COLUMN incident_id bigint REFERENCES incidents ON DELETE SET NULL,
  ADD COLUMN withdraw_after_seconds integer;
CREATE INDEX mitigation_rules_incident ON mitigation_rules (incident_id) WHERE incident_id IS NOT NULL;
