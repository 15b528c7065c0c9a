-- Workspaces (tenants), their user tokens and their nodes.
CREATE TABLE workspaces (
  id                    bigserial PRIMARY KEY,
  uuid                  uuid NOT NULL UNIQUE,
  name                  text NOT NULL,
  default_pps_threshold bigint NOT NULL DEFAULT 50000 CHECK (default_pps_threshold > 0),
  ioc_patterns          jsonb NOT NULL DEFAULT '[]',
  created_at            timestamptz NOT NULL DEFAULT now()
);

-- A token is "bwt_<public id>_<secret>"; only sha256(secret) is stored.
CREATE TABLE tokens (
  id           bigserial PRIMARY KEY,
  public_id    text NOT NULL UNIQUE,
  workspace_id bigint NOT NULL REFERENCES workspaces ON DELETE CASCADE,
  name         text NOT NULL DEFAULT '',
  secret_hash  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nodes (
  id            bigserial PRIMARY KEY,
  uuid          uuid NOT NULL UNIQUE,
  workspace_id  bigint NOT NULL REFERENCES workspaces ON DELETE CASCADE,
  name          text NOT NULL,
  ip            text NOT NULL DEFAULT '',
  key_hash      bytea NOT NULL UNIQUE,
  pps_threshold bigint CHECK (pps_threshold > 0),
  agent_version text,
  os            text,
  uptime        bigint,
  last_seen_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, name)
);

-- The newest sample of each node, what /api/metrics shows. Narrow and updated
-- in place once per batch, hence the low fill factor (HOT updates).
CREATE TABLE node_last_sample (
  node_id     bigint PRIMARY KEY REFERENCES nodes ON DELETE CASCADE,
  received_at timestamptz NOT NULL DEFAULT now(),
  recorded_at timestamptz NOT NULL,
  pps         bigint NOT NULL,
  bps         bigint NOT NULL,
  tcp_pct     real,
  udp_pct     real,
  icmp_pct    real,
  conn_count  bigint
) WITH (fillfactor = 50);

-- Per-second samples, kept raw for a bounded time (see maintenance.ts).
CREATE TABLE metrics_raw (
  node_id     bigint NOT NULL REFERENCES nodes ON DELETE CASCADE,
  recorded_at timestamptz NOT NULL,
  pps         bigint NOT NULL,
  bps         bigint NOT NULL,
  tcp_pct     real,
  udp_pct     real,
  icmp_pct    real,
  conn_count  bigint,
  PRIMARY KEY (node_id, recorded_at)
);
CREATE INDEX metrics_raw_time ON metrics_raw (recorded_at);

-- Per-minute rollups of metrics_raw, kept longer.
CREATE TABLE metrics_minute (
  node_id    bigint NOT NULL REFERENCES nodes ON DELETE CASCADE,
  minute     timestamptz NOT NULL,
  samples    integer NOT NULL,
  pps_avg    double precision NOT NULL,
  pps_max    bigint NOT NULL,
  bps_avg    double precision NOT NULL,
  bps_max    bigint NOT NULL,
  tcp_pct    real,
  udp_pct    real,
  icmp_pct   real,
  conn_avg   double precision,
  PRIMARY KEY (node_id, minute)
);
CREATE INDEX metrics_minute_time ON metrics_minute (minute);

CREATE TABLE baselines (
  node_id     bigint PRIMARY KEY REFERENCES nodes ON DELETE CASCADE,
  mean_pps    double precision NOT NULL,
  p95_pps     double precision NOT NULL,
  p99_pps     double precision NOT NULL,
  samples     integer NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
  id                 bigserial PRIMARY KEY,
  node_id            bigint NOT NULL REFERENCES nodes ON DELETE CASCADE,
  status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  attack_family      text NOT NULL,
  severity           text NOT NULL,
  peak_pps           bigint,
  peak_bps           bigint,
  source_ip_count    bigint,
  spoofing_detected  boolean,
  botnet_detected    boolean,
  details            jsonb NOT NULL DEFAULT '{}',
  opened_at          timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  resolved_at        timestamptz
);
CREATE INDEX incidents_node ON incidents (node_id, opened_at DESC);
CREATE UNIQUE INDEX incidents_one_open ON incidents (node_id) WHERE status = 'open';

CREATE TABLE incident_events (
  id          bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents ON DELETE CASCADE,
  kind        text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

-- Captures are stored in the database, in chunks, so that any server process
-- can serve them (the server keeps no state of its own).
CREATE TABLE pcaps (
  id          bigserial PRIMARY KEY,
  uuid        uuid NOT NULL UNIQUE,
  incident_id bigint NOT NULL REFERENCES incidents ON DELETE CASCADE,
  format      text NOT NULL CHECK (format IN ('pcap', 'pcapng')),
  size        bigint NOT NULL,
  sha256      text NOT NULL,
  packets     bigint NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pcaps_incident ON pcaps (incident_id);
CREATE TABLE pcap_chunks (
  pcap_id bigint NOT NULL REFERENCES pcaps ON DELETE CASCADE,
  seq     integer NOT NULL,
  data    bytea NOT NULL,
  PRIMARY KEY (pcap_id, seq)
);

-- A drop rule for one node or every node of a workspace; its per-node state
-- lives in node_commands (one 'add' per node, one 'remove' after a withdrawal).
CREATE TABLE mitigation_rules (
  id            bigserial PRIMARY KEY,
  workspace_id  bigint NOT NULL REFERENCES workspaces ON DELETE CASCADE,
  node_id       bigint REFERENCES nodes ON DELETE CASCADE,
  action        text NOT NULL DEFAULT 'drop' CHECK (action IN ('drop')),
  source        cidr NOT NULL,
  protocol      text CHECK (protocol IN ('tcp', 'udp', 'icmp')),
  port          integer CHECK (port BETWEEN 1 AND 65535),
  ttl_seconds   integer NOT NULL CHECK (ttl_seconds > 0),
  reason        text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  withdrawn_at  timestamptz
);
CREATE INDEX mitigation_rules_workspace ON mitigation_rules (workspace_id, id DESC);

CREATE TABLE node_commands (
  id         bigserial PRIMARY KEY,
  rule_id    bigint NOT NULL REFERENCES mitigation_rules ON DELETE CASCADE,
  node_id    bigint NOT NULL REFERENCES nodes ON DELETE CASCADE,
  op         text NOT NULL CHECK (op IN ('add', 'remove')),
  status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'failed', 'withdrawn')),
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  acked_at   timestamptz
);
CREATE INDEX node_commands_pending ON node_commands (node_id) WHERE status = 'pending';
CREATE INDEX node_commands_rule ON node_commands (rule_id);
