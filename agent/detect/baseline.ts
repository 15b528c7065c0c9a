/**
 * The detector's own rolling baseline of packets and bits per second, used
 * when the server has none. One value per second of non-attack traffic goes
 * into a log-bucketed histogram whose weights decay with a half-life, so old
 * traffic fades out; mean and quantiles are read from it. The state is plain
 * JSON so the agent can persist it across restarts.
 */

/** Bucket i (i >= 1) holds values in [RATIO^(i-1), RATIO^i); bucket 0 holds values < 1. */
const RATIO = 1.1;
const BUCKETS = 300; // RATIO^299 ~ 2.3e12: beyond any link

export interface SeriesState {
  weights: number[];
  weightSum: number;
  valueSum: number;
}

export interface BaselineState {
  version: 1;
  /** Seconds of traffic learned (not decayed). */
  seconds: number;
  pps: SeriesState;
  bps: SeriesState;
}

export function emptyBaseline(): BaselineState {
  return { version: 1, seconds: 0, pps: emptySeries(), bps: emptySeries() };
}

function emptySeries(): SeriesState {
  return { weights: new Array<number>(BUCKETS).fill(0), weightSum: 0, valueSum: 0 };
}

function bucketOf(v: number): number {
  if (!(v >= 1)) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v) / Math.log(RATIO)));
}

/** Upper edge of a bucket: quantiles err on the high (quiet) side. */
function upperEdge(i: number): number {
  return i === 0 ? 1 : RATIO ** i;
}

function addTo(s: SeriesState, value: number, decay: number): void {
  for (let i = 0; i < BUCKETS; i++) s.weights[i] = (s.weights[i] ?? 0) * decay;
  s.weightSum = s.weightSum * decay + 1;
  s.valueSum = s.valueSum * decay + value;
  const b = bucketOf(value);
  s.weights[b] = (s.weights[b] ?? 0) + 1;
}

/** Learns one second of traffic. `elapsedMs` is the time since the previous value. */
export function learnSecond(st: BaselineState, pps: number, bps: number, elapsedMs: number, halfLifeMs: number): void {
  const decay = 0.5 ** (Math.max(0, elapsedMs) / halfLifeMs);
  addTo(st.pps, pps, decay);
  addTo(st.bps, bps, decay);
  st.seconds += 1;
}

export function mean(s: SeriesState): number {
  return s.weightSum > 0 ? s.valueSum / s.weightSum : 0;
}

/** The q-quantile (0..1), rounded up to its bucket's upper edge. */
export function quantile(s: SeriesState, q: number): number {
  if (s.weightSum <= 0) return 0;
  const target = s.weightSum * q;
  let acc = 0;
  for (let i = 0; i < BUCKETS; i++) {
    acc += s.weights[i] ?? 0;
    if (acc >= target) return upperEdge(i);
  }
  return upperEdge(BUCKETS - 1);
}

/** A copy of `raw` if it is a valid saved state, else null (start afresh). */
export function parseBaseline(raw: unknown): BaselineState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.version !== 1 || !isCount(r.seconds)) return null;
  const pps = parseSeries(r.pps);
  const bps = parseSeries(r.bps);
  if (!pps || !bps) return null;
  return { version: 1, seconds: r.seconds, pps, bps };
}

function parseSeries(raw: unknown): SeriesState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const w = r.weights;
  if (!Array.isArray(w) || w.length !== BUCKETS || !w.every(isCount)) return null;
  if (!isCount(r.weightSum) || !isCount(r.valueSum)) return null;
  return { weights: [...(w as number[])], weightSum: r.weightSum, valueSum: r.valueSum };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
