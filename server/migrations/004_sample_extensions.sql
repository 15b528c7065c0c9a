-- Extension fields of a metrics sample: IP fragments and packets dropped by
-- the kernel's rules, a second (contract/wire/agent.ts metricSample). Null
-- for samples of agents that do not send them.
ALTER TABLE metrics_raw ADD COLUMN fragments_pps bigint, ADD COLUMN dropped_pps bigint;
ALTER TABLE node_last_sample ADD COLUMN fragments_pps bigint, ADD COLUMN dropped_pps bigint;
