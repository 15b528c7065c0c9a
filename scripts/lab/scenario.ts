// Plays one attack in a running lab and measures it from outside Breakwater:
// onset and drop from the victim's own counters (observer.ts, timing.ts),
// the incident from the server's user API, polled every 20 ms, and its
// packet captures as the server lists them (the first, and all by resolve).
import type { Attack } from './attacks.ts';
import { inKernel } from './delivery.ts';
import type { LabRun } from './index.ts';
import { between, findDrop, findOnset } from './timing.ts';
import { sleep, until } from './wait.ts';

export type Mitigation =
  /** An operator (this code) creates the attack's drop rule through the user API as soon as the incident shows. */
  | 'api'
  /** The agent's own auto-mitigation (the lab must have been started with it). */
  | 'auto'
  /** A response policy at the server makes the rule (the lab's workspace must have one). */
  | 'policy'
  | 'none';

export interface AttackResult {
  attack: Attack['key'];
  expectedFamily: string;
  pps: number;
  /** Family, sub-type and severity the server holds for the incident. */
  family?: string;
  severity?: string;
  incidentId?: number;
  /** ms from onset: incident visible at the server, flood dropped (>= 90% of packets), incident resolved. */
  toIncidentMs?: number;
  toDropMs?: number;
  toResolvedMs?: number;
  /** Measured from the victim's interface between onset and the flood's end. */
  receivedPackets: number;
  droppedPackets: number;
  measuredPps: number;
  ruleId?: number;
  /** The incident's captures at the server (GET /incidents/:id pcaps) when it resolved, and ms from onset to the first. */
  captures?: Capture[];
  toCaptureMs?: number;
  /** ms from onset to the incident's row at the server (its opened_at, the server's clock: the same host's). */
  toIncidentStoredMs?: number;
  /** Wall-clock ms of the generator's start (no flood packet can precede it), of the onset and of the flood's end. */
  startedAt?: number;
  onsetAt?: number;
  /** The observer's reading interval the onset fell in (ms): the flood began within onsetAt..onsetAt + this. */
  onsetIntervalMs?: number;
  /** The reading interval before the drop (ms): the drop began within onsetAt + toDropMs - this .. onsetAt + toDropMs. */
  dropIntervalMs?: number;
  endedAt?: number;
  /** Why a value is missing. */
  notes: string[];
}

export interface Capture {
  id: number;
  packets: number;
  size: number;
}

const capturesOf = (inc: any): Capture[] =>
  ((inc?.pcaps ?? []) as any[]).map((p) => ({ id: Number(p.id), packets: Number(p.packets), size: Number(p.size) }));

export interface PlayOptions {
  pps: number;
  seconds: number;
  mitigation: Mitigation;
  /** Wait for the incident to resolve at the server (the agent's 10 s hold after the flood). */
  waitResolved?: boolean;
  /** Drop rule TTL when mitigation is 'api', s. */
  ruleTtlSeconds?: number;
  signal?: AbortSignal;
  /** Awaited once, when the incident first shows at the server. */
  onIncident?: (r: AttackResult) => Promise<void>;
  /** Called every poll with what is known so far. */
  onProgress?: (r: AttackResult) => void;
}

export async function playAttack(run: LabRun, attack: Attack, o: PlayOptions): Promise<AttackResult> {
  const r: AttackResult = {
    attack: attack.key,
    expectedFamily: attack.family,
    pps: o.pps,
    receivedPackets: 0,
    droppedPackets: 0,
    measuredPps: 0,
    notes: [],
  };
  // Each attack starts on a calm node: the previous incident resolved.
  for (let i = 0; i < 400 && !o.signal?.aborted; i++) {
    const open = (await run.user('GET', `/incidents?node_id=${run.node.id}&status=open&limit=1`)).body?.incidents ?? [];
    if (!open.length) break;
    await sleep(100);
  }
  const known = new Set<number>(
    ((await run.user('GET', `/incidents?node_id=${run.node.id}&limit=100`)).body?.incidents ?? []).map((i: any) => i.id),
  );
  const t0 = Date.now();
  r.startedAt = t0;
  const flow = attack.start(run.net, o.pps, o.seconds);
  let ended = false;
  let endedAt = 0;
  flow.done
    .finally(() => {
      ended = true;
      endedAt = Date.now();
    })
    .catch(() => {});
  let seenAt: number | undefined;
  let storedAt: number | undefined;
  let captureAt: number | undefined;
  let polls = 0;
  /** Notes when the incident's first capture shows at the server. */
  const pollCaptures = async (inc?: any) => {
    if (r.incidentId === undefined) return;
    const cur = inc ?? (await run.user('GET', `/incidents/${r.incidentId}`)).body;
    r.captures = capturesOf(cur);
    if (r.captures.length) captureAt ??= Date.now();
  };
  let ruleAsked = false;
  try {
    while (!ended && !o.signal?.aborted) {
      if (seenAt !== undefined && captureAt === undefined && ++polls % 10 === 0) await pollCaptures();
      if (seenAt === undefined) {
        const list = (await run.user('GET', `/incidents?node_id=${run.node.id}&status=open&limit=10`)).body?.incidents ?? [];
        const inc = list.find((i: any) => !known.has(i.id));
        if (inc) {
          seenAt = Date.now();
          storedAt = Date.parse(inc.opened_at);
          r.incidentId = inc.id;
          r.family = inc.attack_family;
          r.severity = inc.severity;
          await o.onIncident?.(r);
        }
      }
      if (seenAt !== undefined && o.mitigation === 'api' && !ruleAsked) {
        ruleAsked = true;
        const made = await run.user('POST', '/mitigations', {
          node_id: run.node.id,
          ...attack.rule,
          ttl_seconds: o.ruleTtlSeconds ?? 120,
          reason: `lab: ${attack.title}`,
        });
        if (made.status === 201) r.ruleId = made.body.id;
        else r.notes.push(`rule refused: ${JSON.stringify(made.body)}`);
      }
      o.onProgress?.(r);
      await sleep(20);
    }
  } finally {
    if (o.signal?.aborted) flow.stop();
    await flow.done.catch((e) => r.notes.push(String(e.message ?? e)));
  }
  await sleep(100); // the observer's last readings
  const series = run.observer.series;
  const onset = findOnset(series, t0 - 50, Math.max(5, o.pps * 0.1 * 0.5));
  if (onset === undefined) {
    r.notes.push('no onset seen at the victim');
    return r;
  }
  r.onsetAt = onset;
  r.onsetIntervalMs = (series.find((p) => p.t > onset)?.t ?? onset) - onset;
  r.endedAt = endedAt || Date.now();
  const drop = findDrop(series, onset, Math.max(5, o.pps * 0.05 * 0.3));
  const span = between(series, onset, endedAt || Date.now());
  r.receivedPackets = span.received;
  r.droppedPackets = span.dropped;
  r.measuredPps = Math.round((span.received * 1000) / Math.max(1, (endedAt || Date.now()) - onset));
  if (seenAt !== undefined) r.toIncidentMs = seenAt - onset;
  if (storedAt !== undefined && Number.isFinite(storedAt)) r.toIncidentStoredMs = storedAt - onset;
  else r.notes.push('no incident during the flood');
  if (drop !== undefined) {
    r.toDropMs = drop - onset;
    const i = series.findIndex((p) => p.t >= drop);
    r.dropIntervalMs = i > 0 ? drop - series[i - 1]!.t : 0;
  } else if (o.mitigation !== 'none') {
    // What the run looked like, to tell a slow rule from a flood that ended before any rule could act.
    r.notes.push(
      `the flood was not dropped (generator ran ${(endedAt || Date.now()) - t0} ms, onset ${onset - t0} ms after its start; ` +
        `victim received ${span.received} and XDP dropped ${span.dropped} packets of it; rule ${r.ruleId ?? 'none'}` +
        `${seenAt !== undefined && r.ruleId !== undefined ? ` asked ${seenAt - onset} ms after onset` : ''})`,
    );
  }
  if (r.incidentId !== undefined) {
    const inc = (await run.user('GET', `/incidents/${r.incidentId}`)).body;
    r.family = inc?.attack_family ?? r.family;
    r.severity = inc?.severity ?? r.severity;
    if (o.waitResolved) {
      for (let i = 0; i < 300 && !o.signal?.aborted; i++) {
        const cur = (await run.user('GET', `/incidents/${r.incidentId}`)).body;
        await pollCaptures(cur);
        if (cur?.status === 'resolved') {
          r.toResolvedMs = Date.now() - onset;
          break;
        }
        o.onProgress?.(r);
        await sleep(100);
      }
      if (r.toResolvedMs === undefined) r.notes.push('the incident did not resolve within 30 s');
    } else {
      await pollCaptures(inc);
    }
    if (captureAt !== undefined) r.toCaptureMs = captureAt - onset;
  }
  return r;
}

/** Withdraws a rule made by playAttack and waits until the agent has removed it from the kernel (10 s at most). */
export async function withdrawRule(run: LabRun, ruleId: number): Promise<boolean> {
  const rule = (await run.user('POST', `/mitigations/${ruleId}/withdraw`, {})).body;
  return (await until(() => !inKernel(run, String(rule?.source ?? '')), 10_000)) ?? false;
}

/** Waits until no drop rule is in the kernel (auto-mitigation rules expire by their TTL). */
export async function waitNoRules(run: LabRun, ms = 30_000): Promise<boolean> {
  return (await until(() => run.kernel.listRules().every((k) => k.expired || k.mode !== 'drop'), ms)) ?? false;
}
