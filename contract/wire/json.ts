/**
 * The shape every decoded body (JSON or MessagePack) and query value must
 * have before any schema looks at it: plain data (null, booleans, finite
 * numbers, text, arrays, plain objects, and MessagePack timestamps), nested
 * at most MAX_DEPTH deep, at most MAX_VALUES values, and text (values and
 * keys alike) without NUL characters or lone UTF-16 surrogates, neither of
 * which PostgreSQL can store. The first problem is named by its path.
 */
import { MAX_DEPTH, MAX_VALUES } from '../limits.ts';

export interface ShapeProblem {
  /** "top_src_ips.3.ip"; "" for the body itself. */
  path: string;
  message: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why text cannot be stored, or null. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

export function checkShape(value: unknown, limits = { maxDepth: MAX_DEPTH, maxValues: MAX_VALUES }): ShapeProblem | null {
  let values = 0;
  const walk = (v: unknown, path: string, depth: number): ShapeProblem | null => {
    if (++values > limits.maxValues) return { path, message: `more than ${limits.maxValues} values in one body` };
    if (v === null || typeof v === 'boolean') return null;
    if (typeof v === 'number') return Number.isFinite(v) ? null : { path, message: `${v} is not a finite number` };
    if (typeof v === 'string') {
      const p = textProblem(v);
      return p ? { path, message: p } : null;
    }
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? { path, message: 'an invalid timestamp' } : null;
    if (typeof v !== 'object') return { path, message: `a ${typeof v} is not a JSON value` };
    if (depth >= limits.maxDepth) return { path, message: `nested deeper than ${limits.maxDepth} levels` };
    const at = (k: string | number) => (path ? `${path}.${k}` : String(k));
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const p = walk(v[i], at(i), depth + 1);
        if (p) return p;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { path, message: 'binary or typed data is not a JSON value' };
    for (const [k, x] of Object.entries(v)) {
      const kp = k === '__proto__' ? 'is a reserved key' : textProblem(k);
      if (kp) return { path: at(JSON.stringify(k).slice(1, -1)), message: `the key ${kp}` };
      const p = walk(x, at(k), depth + 1);
      if (p) return p;
    }
    return null;
  };
  return walk(value, '', 0);
}
