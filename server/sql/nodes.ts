// Nodes: identity, key hash, threshold, last heartbeat. Status is derived:
// under_attack (an open incident), else online (a heartbeat or a sample within
// the online window, 90 s by default), else offline. The three are exclusive.
import crypto from 'node:crypto';
import { parsePrefix } from '../../contract/net/prefix.ts';
import type { Heartbeat } from '../../contract/wire/agent.ts';
import type { Queryable } from '../db.ts';
import { hashSecret, newSecret } from '../secrets.ts';

export type NodeStatus = 'online' | 'offline' | 'under_attack';

export interface NodeRow {
  id: number;
  uuid: string;
  workspace_id: number;
  name: string;
  ip: string;
  pps_threshold: number | null;
  effective_pps_threshold: number;
  /** The node's own kill switch, and whether dropping is stopped on it (its own or its workspace's). */
  kill_switch: boolean;
  dropping_stopped: boolean;
  /** The node's own threshold extensions (null: the workspace's), and the mode in force. */
  threshold_mode: string | null;
  bps_threshold: number | null;
  floor_pps: number | null;
  effective_threshold_mode: string;
  /** Local auto-mitigation as the server sets it (null: the agent's own setting). */
  auto_mitigate: boolean | null;
  /** The kernel's kill switch as the agent last said (heartbeat or kernel-rules report, the newer), and when; null: never said. */
  kill_switch_in_force: boolean | null;
  kill_switch_reported_at: Date | null;
  /** dropping_stopped and the kernel disagree, and the kill switch was set more than KILL_SWITCH_GRACE_SECONDS ago. */
  kill_switch_mismatch: boolean;
  /** The kernel's rules of mode 'log', and all its rules, as the last heartbeat that said them; null: never said. */
  log_only_rules: number | null;
  rules_in_kernel: number | null;
  agent_version: string | null;
  os: string | null;
  uptime: number | null;
  last_seen_at: Date | null;
  created_at: Date;
  status: NodeStatus;
}

/** SQL of a node's derived status; $online is the parameter holding the online window in seconds. */
export const statusSql = (n: string, online: string) => `CASE
  WHEN EXISTS (SELECT 1 FROM incidents i WHERE i.node_id = ${n}.id AND i.status = 'open') THEN 'under_attack'
  WHEN greatest(${n}.last_seen_at, (SELECT l.received_at FROM node_last_sample l WHERE l.node_id = ${n}.id))
       > now() - make_interval(secs => ${online}) THEN 'online'
  ELSE 'offline' END`;

/**
 * Seconds a kernel may take to follow a kill switch change before a
 * difference counts as a mismatch: one heartbeat period (SPEC's 30 s). The
 * agent applies a change pushed in milliseconds and reports it at once.
 */
export const KILL_SWITCH_GRACE_SECONDS = 30;

/** SQL of the kernel's kill switch in force for node `n`: the newer of the heartbeat's and the kernel-rules report's. */
const killSwitchInForce = (n: string) => `CASE WHEN ${n}.heartbeat_kernel_at >= ${n}.kernel_reported_at OR ${n}.kernel_reported_at IS NULL
  THEN ${n}.heartbeat_kill_switch ELSE ${n}.kernel_kill_switch END`;

/**
 * SQL columns of node `n` in workspace `w`: kill_switch_in_force,
 * kill_switch_reported_at, kill_switch_mismatch. A mismatch is the kernel's
 * last word differing from the kill switch set (its own or its workspace's)
 * when that was set more than the grace ago: the kernel said otherwise, or
 * has said nothing since (an agent offline has not confirmed it).
 */
export const killSwitchSql = (n: string, w: string) => `${killSwitchInForce(n)} AS kill_switch_in_force,
  greatest(${n}.heartbeat_kernel_at, ${n}.kernel_reported_at) AS kill_switch_reported_at,
  coalesce(${killSwitchInForce(n)} <> (${n}.kill_switch OR ${w}.kill_switch)
    AND coalesce(greatest(${n}.kill_switch_changed_at, ${w}.kill_switch_changed_at), '-infinity')
        < now() - make_interval(secs => ${KILL_SWITCH_GRACE_SECONDS}), false) AS kill_switch_mismatch`;

const select = `SELECT n.id, n.uuid, n.workspace_id, n.name, n.ip, n.pps_threshold,
  coalesce(n.pps_threshold, w.default_pps_threshold) AS effective_pps_threshold,
  n.kill_switch, n.kill_switch OR w.kill_switch AS dropping_stopped, ${killSwitchSql('n', 'w')},
  n.heartbeat_log_only_rules AS log_only_rules, n.heartbeat_rules_in_kernel AS rules_in_kernel,
  n.threshold_mode, n.bps_threshold, n.floor_pps, n.auto_mitigate, coalesce(n.threshold_mode, w.default_threshold_mode) AS effective_threshold_mode,
  n.agent_version, n.os, n.uptime, n.last_seen_at, n.created_at, ${statusSql('n', '$1::float8')} AS status
  FROM nodes n JOIN workspaces w ON w.id = n.workspace_id`;

/**
 * Serialises node creation with rule creation in one workspace (a row lock
 * on the workspace that foreign-key checks do not wait for). Without it a
 * node and a workspace-wide rule created at the same moment would each miss
 * the other's uncommitted row, and the node would never get the rule.
 */
export async function lockWorkspaceForRules(client: Queryable, workspaceId: number): Promise<void> {
  await client.query('SELECT 1 FROM workspaces WHERE id = $1 FOR NO KEY UPDATE', [workspaceId]);
}

/** Creates a node, with the commands of the workspace-wide rules in force. Call inside a transaction. */
export async function createNode(
  client: Queryable,
  workspaceId: number,
  input: { name: string; ip?: string; pps_threshold?: number | null },
): Promise<{ id: number; uuid: string; key: string }> {
  const key = newSecret();
  const uuid = crypto.randomUUID();
  await lockWorkspaceForRules(client, workspaceId);
  // A workspace-wide drop rule still in force reaches a node created after it.
  const { rows } = await client.query<{ id: number }>(
    `WITH n AS (
       INSERT INTO nodes (uuid, workspace_id, name, ip, key_hash, pps_threshold)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
     ), c AS (
       INSERT INTO node_commands (rule_id, node_id, op)
       SELECT r.id, n.id, 'add' FROM mitigation_rules r, n
       WHERE r.workspace_id = $2 AND r.node_id IS NULL AND r.withdrawn_at IS NULL AND r.expires_at > now()
     )
     SELECT id FROM n`,
    [uuid, workspaceId, input.name, input.ip ?? '', hashSecret(key), input.pps_threshold ?? null],
  );
  return { id: rows[0]!.id, uuid, key };
}

export async function listNodes(db: Queryable, workspaceId: number, onlineSeconds: number): Promise<NodeRow[]> {
  const { rows } = await db.query<NodeRow>(`${select} WHERE n.workspace_id = $2 ORDER BY n.id`, [onlineSeconds, workspaceId]);
  return rows;
}

export async function getNode(db: Queryable, workspaceId: number, id: number, onlineSeconds: number): Promise<NodeRow | undefined> {
  const { rows } = await db.query<NodeRow>(`${select} WHERE n.workspace_id = $2 AND n.id = $3`, [onlineSeconds, workspaceId, id]);
  return rows[0];
}

/**
 * Channel on which a node whose credentials changed (deleted in any way, a new
 * key) is announced, with its UUID, when the change commits: a trigger
 * (migrations/002) sends it, and every server process drops that node from its
 * credential cache (revocations.ts).
 */
export const CREDENTIALS_CHANNEL = 'breakwater_node_credentials';

/** Deletes a node; returns its UUID, or undefined when there was none. */
export async function deleteNode(db: Queryable, workspaceId: number, id: number): Promise<string | undefined> {
  const r = await db.query<{ uuid: string }>('DELETE FROM nodes WHERE workspace_id = $1 AND id = $2 RETURNING uuid', [workspaceId, id]);
  return r.rows[0]?.uuid;
}

/** Gives a node a new key (the old one stops working); the key, shown once, or undefined when there is no such node. */
export async function rotateKey(
  db: Queryable,
  workspaceId: number,
  id: number,
): Promise<{ id: number; uuid: string; key: string } | undefined> {
  const key = newSecret();
  const r = await db.query<{ uuid: string }>('UPDATE nodes SET key_hash = $3 WHERE workspace_id = $1 AND id = $2 RETURNING uuid', [
    workspaceId,
    id,
    hashSecret(key),
  ]);
  return r.rows[0] ? { id, uuid: r.rows[0].uuid, key } : undefined;
}

export async function setAutoMitigate(db: Queryable, workspaceId: number, id: number, on: boolean | null): Promise<boolean> {
  const r = await db.query('UPDATE nodes SET auto_mitigate = $3 WHERE workspace_id = $1 AND id = $2', [workspaceId, id, on]);
  return r.rowCount === 1;
}

export async function setKillSwitch(db: Queryable, workspaceId: number, id: number, on: boolean): Promise<boolean> {
  const r = await db.query('UPDATE nodes SET kill_switch = $3 WHERE workspace_id = $1 AND id = $2', [workspaceId, id, on]);
  return r.rowCount === 1;
}

/** The node's thresholds (contract/wire/user.ts setThreshold): a field absent stays, null takes the workspace's. */
export async function setThreshold(
  db: Queryable,
  workspaceId: number,
  id: number,
  v: { pps_threshold: number | null; mode?: string | null; bps_threshold?: number | null; floor_pps?: number | null },
): Promise<boolean> {
  const cols: [string, unknown][] = [['pps_threshold', v.pps_threshold]];
  if (v.mode !== undefined) cols.push(['threshold_mode', v.mode]);
  if (v.bps_threshold !== undefined) cols.push(['bps_threshold', v.bps_threshold]);
  if (v.floor_pps !== undefined) cols.push(['floor_pps', v.floor_pps]);
  const r = await db.query(`UPDATE nodes SET ${cols.map(([c], i) => `${c} = $${i + 3}`).join(', ')} WHERE workspace_id = $1 AND id = $2`, [
    workspaceId,
    id,
    ...cols.map(([, x]) => x),
  ]);
  return r.rowCount === 1;
}

/** The threshold and IOC patterns a node's GET /config carries (the workspace's default when the node has none). */
export interface NodeConfigRow {
  pps_threshold: number;
  ioc_patterns: unknown[];
  kill_switch: boolean;
  threshold_mode: 'static' | 'dynamic';
  bps_threshold: number | null;
  floor_pps: number | null;
  auto_mitigate: boolean | null;
}

/** What the config of each node (of those that exist) takes from the node and its workspace. */
export async function nodeConfigs(db: Queryable, nodeIds: readonly number[]): Promise<Map<number, NodeConfigRow>> {
  const { rows } = await db.query<NodeConfigRow & { id: number }>(
    `SELECT n.id, coalesce(n.pps_threshold, w.default_pps_threshold) AS pps_threshold, w.ioc_patterns,
       n.kill_switch OR w.kill_switch AS kill_switch,
       coalesce(n.threshold_mode, w.default_threshold_mode) AS threshold_mode,
       coalesce(n.bps_threshold, w.default_bps_threshold) AS bps_threshold,
       coalesce(n.floor_pps, w.default_floor_pps) AS floor_pps, n.auto_mitigate
     FROM nodes n JOIN workspaces w ON w.id = n.workspace_id WHERE n.id = ANY($1::bigint[])`,
    [nodeIds],
  );
  return new Map(rows.map(({ id, ...c }) => [id, c]));
}

/** The addresses of the nodes a rule would reach (one node, or every node of the workspace), for the safety check. */
export async function nodeAddresses(db: Queryable, workspaceId: number, nodeId: number | null): Promise<string[]> {
  const { rows } = await db.query<{ ip: string }>(
    `SELECT ip FROM nodes WHERE workspace_id = $1 AND ($2::bigint IS NULL OR id = $2) AND ip <> ''`,
    [workspaceId, nodeId],
  );
  // Only addresses the contract reads (every one the API stored; a row written by hand may hold anything).
  return rows.map((r) => r.ip).filter((ip) => parsePrefix(ip).ok);
}

/** What agent authentication needs, looked up by X-Node-UUID headers (lower case), many at once. */
export async function nodeCredentials(
  db: Queryable,
  uuids: string[],
): Promise<Map<string, { id: number; workspace_id: number; key_hash: Buffer }>> {
  const { rows } = await db.query('SELECT uuid, id, workspace_id, key_hash FROM nodes WHERE uuid = ANY($1::uuid[])', [uuids]);
  return new Map(rows.map((r) => [r.uuid, { id: r.id, workspace_id: r.workspace_id, key_hash: r.key_hash }]));
}

/**
 * A heartbeat: SPEC's fields (an absent one keeps the last), and the kernel's
 * state when it carries its kill switch (an older agent's heartbeat leaves
 * the last state and its time as they were).
 */
export async function recordHeartbeat(db: Queryable, id: number, hb: Heartbeat): Promise<void> {
  await db.query(
    `UPDATE nodes SET last_seen_at = now(), agent_version = coalesce($2, agent_version),
       uptime = coalesce($3, uptime), os = coalesce($4, os),
       heartbeat_kernel_at = CASE WHEN $5::boolean IS NULL THEN heartbeat_kernel_at ELSE now() END,
       heartbeat_kill_switch = coalesce($5, heartbeat_kill_switch),
       heartbeat_log_only_rules = CASE WHEN $5::boolean IS NULL THEN heartbeat_log_only_rules ELSE $6::int END,
       heartbeat_rules_in_kernel = CASE WHEN $5::boolean IS NULL THEN heartbeat_rules_in_kernel ELSE $7::int END
     WHERE id = $1`,
    [
      id,
      hb.agent_version ?? null,
      hb.uptime ?? null,
      hb.os ?? null,
      hb.kill_switch ?? null,
      hb.log_only_rules ?? null,
      hb.rules_in_kernel ?? null,
    ],
  );
}
