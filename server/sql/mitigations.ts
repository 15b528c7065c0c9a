// Mitigation rules (drop rules for one node or every node of a workspace, with
// a TTL) and the per-node commands that deliver them. State of a rule on a
// node: withdrawn, else expired (past its TTL), else failed / active (as the
// agent acknowledged the command), else pending. A command that the node's
// kernel report contradicted is replaced by a new one (superseded_at set,
// server/sql/kernel-rules.ts): only the commands not replaced give the state.
import { renderCommand } from '../../contract/commands/index.ts';
import type { RuleState } from '../../contract/enums.ts';
import { prefixOf } from '../../contract/net/prefix.ts';
import type { Protocol, Rule } from '../../contract/rule.ts';
import type { PendingCommand } from '../../contract/wire/agent.ts';
import type { Queryable, Row } from '../db.ts';
import { kernelHolds } from './kernel-rules.ts';
import { lockWorkspaceForRules } from './nodes.ts';

export type { RuleState };

const nodeState = `CASE WHEN r.withdrawn_at IS NOT NULL THEN 'withdrawn' WHEN r.expires_at <= now() THEN 'expired'
  WHEN c.status = 'failed' THEN 'failed' WHEN c.status = 'applied' THEN 'active' ELSE 'pending' END`;

/** Rule rows with their aggregate state (failed if a node failed, active when all applied). */
export const rulesWithState = `
  SELECT r.*, CASE WHEN r.withdrawn_at IS NOT NULL THEN 'withdrawn' WHEN r.expires_at <= now() THEN 'expired'
    WHEN bool_or(c.status = 'failed') THEN 'failed' WHEN bool_and(c.status = 'applied') THEN 'active'
    ELSE 'pending' END AS state
  FROM mitigation_rules r LEFT JOIN node_commands c ON c.rule_id = r.id AND c.op = 'add' AND c.superseded_at IS NULL
  GROUP BY r.id`;

/** A rule to create: its match (checked by the contract's policy), lifetime and why. */
export interface NewRule {
  node_id?: number;
  rule: Rule & { ttlSeconds: number };
  reason?: string;
  /** A rule a response policy made: which, for which incident, withdrawn how long after it resolves. */
  policy?: { id: number; incidentId: number; withdrawAfterSeconds: number };
}

/** Creates a rule and one pending command per target node; null when node_id is not in the workspace. */
export async function createRule(client: Queryable, workspaceId: number, n: NewRule): Promise<number | null> {
  return (await createRules(client, workspaceId, [n]))[0] ?? null;
}

/**
 * Creates many rules (a policy's) in at most five statements whatever their number: the workspace's
 * rule lock, the asked nodes' check (when a rule names one), the ids, the rules, and one pending
 * command per rule and target node, in the rules' order.
 * Each id is in the order given; null for a rule whose node_id is not in the workspace.
 */
export async function createRules(client: Queryable, workspaceId: number, list: readonly NewRule[]): Promise<(number | null)[]> {
  if (list.length === 0) return [];
  await lockWorkspaceForRules(client, workspaceId);
  const asked = [...new Set(list.flatMap((n) => (n.node_id === undefined ? [] : [n.node_id])))];
  const known = new Set<number>();
  if (asked.length) {
    const { rows } = await client.query<{ id: number }>('SELECT id FROM nodes WHERE workspace_id = $1 AND id = ANY($2::bigint[])', [
      workspaceId,
      asked,
    ]);
    for (const r of rows) known.add(Number(r.id));
  }
  const made = list.filter((n) => n.node_id === undefined || known.has(n.node_id));
  if (made.length === 0) return list.map(() => null);
  const { rows: ids } = await client.query<{ id: number }>(
    "SELECT nextval(pg_get_serial_sequence('mitigation_rules', 'id'))::bigint AS id FROM generate_series(1, $1::int)",
    [made.length],
  );
  const col = <T>(f: (n: NewRule) => T) => made.map(f);
  await client.query(
    `INSERT INTO mitigation_rules (id, workspace_id, node_id, source, protocol, port, ttl_seconds, reason, expires_at,
       policy_id, incident_id, withdraw_after_seconds, action)
     SELECT t.id, $1, t.node_id, t.source, t.protocol, t.port, t.ttl, t.reason, now() + make_interval(secs => t.ttl),
       t.policy_id, t.incident_id, t.withdraw_after, t.action
     FROM unnest($2::bigint[], $3::bigint[], $4::cidr[], $5::text[], $6::int[], $7::int[], $8::text[], $9::bigint[], $10::bigint[],
       $11::int[], $12::text[]) AS t(id, node_id, source, protocol, port, ttl, reason, policy_id, incident_id, withdraw_after, action)`,
    [
      workspaceId,
      ids.map((r) => r.id),
      col((n) => n.node_id ?? null),
      col((n) => n.rule.source.cidr),
      col((n) => n.rule.protocol ?? null),
      col((n) => n.rule.port ?? null),
      col((n) => n.rule.ttlSeconds),
      col((n) => n.reason ?? ''),
      col((n) => n.policy?.id ?? null),
      col((n) => n.policy?.incidentId ?? null),
      col((n) => n.policy?.withdrawAfterSeconds ?? null),
      col((n) => (n.rule.mode === 'log' ? 'log' : 'drop')),
    ],
  );
  await client.query(
    `INSERT INTO node_commands (rule_id, node_id, op)
     SELECT t.rule_id, n.id, 'add' FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS t(rule_id, node_id, ord)
     JOIN nodes n ON n.workspace_id = $3 AND (t.node_id IS NULL OR n.id = t.node_id)
     ORDER BY t.ord, n.id`,
    [ids.map((r) => r.id), col((n) => n.node_id ?? null), workspaceId],
  );
  const idOf = new Map(made.map((n, i) => [n, Number(ids[i]!.id)]));
  return list.map((n) => idOf.get(n) ?? null);
}

export async function listRules(db: Queryable, workspaceId: number, f: { state?: RuleState; limit: number; before?: number }) {
  const { rows } = await db.query(
    `SELECT * FROM (${rulesWithState}) x WHERE workspace_id = $1 AND ($2::text IS NULL OR state = $2)
     AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4`,
    [workspaceId, f.state ?? null, f.before ?? null, f.limit],
  );
  return rows.map(present);
}

export async function getRule(db: Queryable, workspaceId: number, id: number) {
  const { rows } = await db.query(`SELECT * FROM (${rulesWithState}) x WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  if (!rows[0]) return undefined;
  // Per node: the state its commands give, how often the add was issued again
  // (the node's kernel had lost the rule), and what its kernel last reported.
  const nodes = await db.query(
    `SELECT c.node_id, ${nodeState} AS state, c.reason, c.acked_at,
       (SELECT count(*) FROM node_commands s WHERE s.rule_id = c.rule_id AND s.node_id = c.node_id AND s.op = 'add'
        AND s.superseded_at IS NOT NULL)::int AS reissued,
       n.kernel_reported_at, k.node_id IS NOT NULL AS in_kernel, k.mode, k.packets, k.bytes
     FROM node_commands c JOIN mitigation_rules r ON r.id = c.rule_id JOIN nodes n ON n.id = c.node_id
       LEFT JOIN LATERAL (SELECT * FROM node_kernel_rules k WHERE k.node_id = c.node_id AND ${kernelHolds('k', 'r')} LIMIT 1) k ON true
     WHERE c.rule_id = $1 AND c.op = 'add' AND c.superseded_at IS NULL ORDER BY c.node_id`,
    [id],
  );
  return { ...present(rows[0]), nodes: nodes.rows.map(presentNode) };
}

/** Withdraws a rule: undelivered commands are dropped, applied ones get a 'remove' command. */
export async function withdrawRule(client: Queryable, workspaceId: number, id: number): Promise<boolean> {
  return (await withdrawRules(client, workspaceId, [id])).length === 1;
}

/**
 * Withdraws many rules of a workspace in two statements (a policy's, once its incident resolved:
 * one push per node with all the removals, not one per rule); returns the ids withdrawn.
 */
export async function withdrawRules(client: Queryable, workspaceId: number, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const { rows } = await client.query<{ id: number }>(
    'UPDATE mitigation_rules SET withdrawn_at = coalesce(withdrawn_at, now()) WHERE workspace_id = $1 AND id = ANY($2::bigint[]) RETURNING id',
    [workspaceId, ids],
  );
  const found = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  if (found.length === 0) return [];
  await client.query(
    `WITH w AS (UPDATE node_commands SET status = 'withdrawn' WHERE rule_id = ANY($1::bigint[]) AND op = 'add' AND status = 'pending' RETURNING 1)
     INSERT INTO node_commands (rule_id, node_id, op)
     SELECT rule_id, node_id, 'remove' FROM node_commands c
     WHERE c.rule_id = ANY($1::bigint[]) AND c.op = 'add' AND c.status = 'applied' AND c.superseded_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM node_commands x WHERE x.rule_id = c.rule_id AND x.node_id = c.node_id AND x.op = 'remove')
     ORDER BY c.rule_id, c.node_id`,
    [found],
  );
  return found;
}

/** Commands a node still has to apply: not acknowledged, rule not expired (nor withdrawn, for adds). */
/** The pending commands of each node, in order (every node asked for has an entry). */
export async function pendingCommands(db: Queryable, nodeIds: readonly number[]) {
  const { rows } = await db.query<{
    node_id: number;
    id: number;
    rule_id: number;
    op: 'add' | 'remove';
    action: 'drop' | 'log';
    source: string;
    protocol: Protocol | null;
    port: number | null;
    expires_at: Date;
  }>(
    `SELECT c.node_id, c.id, c.rule_id, c.op, r.action, r.source::text AS source, r.protocol, r.port, r.expires_at
     FROM node_commands c JOIN mitigation_rules r ON r.id = c.rule_id
     WHERE c.node_id = ANY($1::bigint[]) AND c.status = 'pending' AND r.expires_at > now()
       AND (c.op = 'remove' OR r.withdrawn_at IS NULL)
     ORDER BY c.id`,
    [nodeIds],
  );
  const now = Date.now();
  const out = new Map(nodeIds.map((id) => [id, [] as PendingCommand[]]));
  for (const c of rows)
    out.get(c.node_id)?.push({
      id: c.id,
      command: renderCommand({ op: c.op === 'add' ? 'add' : 'delete', rule: ruleOf(c) }),
      // Extension: the structured form, with the time left to live.
      rule: {
        rule_id: c.rule_id,
        op: c.op,
        action: c.action,
        source: prefixOf(c.source).cidr,
        protocol: c.protocol,
        port: c.port,
        ttl: Math.max(1, Math.ceil((c.expires_at.getTime() - now) / 1000)),
        expires_at: c.expires_at,
      },
    });
  return out;
}

/** Records the agent's answer; 'gone' when the command is not this node's, 'conflict' when already answered otherwise. */
export async function ackCommand(
  db: Queryable,
  nodeId: number,
  id: number,
  status: 'applied' | 'failed',
  reason: string | null,
): Promise<'ok' | 'gone' | 'conflict'> {
  // One statement, the row locked: a pending command takes the answer. A command
  // withdrawn after it was delivered and then reported applied is in place on the
  // node, so it becomes applied and gets a 'remove' command. Any other answer (a
  // repeat, a contradiction, two at once) writes nothing.
  const { rows } = await db.query<{ before: string; updated: number }>(
    `WITH cur AS (SELECT id, status, rule_id, node_id, op FROM node_commands WHERE id = $2 AND node_id = $1 FOR UPDATE),
     upd AS (
       UPDATE node_commands c SET status = $3::text, acked_at = now(),
         reason = CASE WHEN cur.status = 'pending' THEN $4 ELSE c.reason END
       FROM cur WHERE c.id = cur.id AND (cur.status = 'pending' OR (cur.status = 'withdrawn' AND $3::text = 'applied'))
       RETURNING cur.status AS was
     ),
     rm AS (
       INSERT INTO node_commands (rule_id, node_id, op)
       SELECT cur.rule_id, cur.node_id, 'remove' FROM cur JOIN upd ON upd.was = 'withdrawn'
       WHERE cur.op = 'add'
         AND NOT EXISTS (SELECT 1 FROM node_commands x WHERE x.rule_id = cur.rule_id AND x.node_id = cur.node_id AND x.op = 'remove')
     )
     SELECT cur.status AS before, (SELECT count(*) FROM upd)::int AS updated FROM cur`,
    [nodeId, id, status, reason],
  );
  if (!rows[0]) return 'gone';
  return rows[0].updated > 0 || rows[0].before === status ? 'ok' : 'conflict';
}

/** A stored rule in the contract's shape (the database's cidr text read by the contract's parser). */
function ruleOf(r: { source: string; protocol: Protocol | null; port: number | null; action?: string }): Rule {
  return {
    source: prefixOf(r.source),
    ...(r.protocol ? { protocol: r.protocol } : {}),
    ...(r.port !== null ? { port: r.port } : {}),
    ...(r.action === 'log' ? { mode: 'log' as const } : {}),
  };
}

/** A node's state of a rule; `kernel`: null until the node's agent reported its kernel's rules. */
function presentNode({ kernel_reported_at, in_kernel, mode, packets, bytes, ...n }: Row) {
  return {
    ...n,
    kernel:
      kernel_reported_at === null
        ? null
        : { present: in_kernel, mode: in_kernel ? mode : null, packets: packets ?? 0, bytes: bytes ?? 0, reported_at: kernel_reported_at },
  };
}

function present(r: Row) {
  return {
    id: r.id,
    node_id: r.node_id,
    scope: r.node_id === null ? 'workspace' : 'node',
    action: r.action,
    source: prefixOf(r.source).cidr,
    protocol: r.protocol,
    port: r.port,
    ttl_seconds: r.ttl_seconds,
    reason: r.reason,
    /** Who made it: an operator (through the API) or a response policy, for an incident. */
    origin: r.policy_id === null && r.incident_id === null ? 'operator' : 'policy',
    policy_id: r.policy_id,
    incident_id: r.incident_id,
    state: r.state as RuleState,
    created_at: r.created_at,
    expires_at: r.expires_at,
    withdrawn_at: r.withdrawn_at,
  };
}
