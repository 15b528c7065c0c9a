/**
 * The incident an agent had open when it stopped (or was killed): kept in
 * the state directory while it is open, so that the next run either resumes
 * it (an attack is still going on: its events carry the same key, so they go
 * to the same incident at the server) or resolves it (nothing opens within
 * the hold time after start: the attack ended while no agent watched).
 */
import fs from 'node:fs';
import type { IncidentFields } from '../contract/wire/agent.ts';
import type { DetectorEventType } from './detect/index.ts';
import { readJson, writeJsonAtomic } from './state.ts';

interface Left {
  key: string;
  fields: IncidentFields;
}

export class OpenIncident {
  private left: Left | null;
  private readonly until: number;
  private readonly keys = new Map<number, string>();

  constructor(
    private readonly file: string,
    holdMs: number,
    private readonly now = Date.now,
  ) {
    const v = readJson(file) as Partial<Left> | undefined;
    this.left = v && typeof v.key === 'string' && v.fields && typeof v.fields === 'object' ? { key: v.key, fields: v.fields } : null;
    this.until = now() + holdMs;
  }

  /** The incident the last run left open, while it may still be resumed. */
  get pending(): string | null {
    return this.left?.key ?? null;
  }

  /** The key of an incident's events: an incident opened while one is left takes over its key. */
  keyFor(type: DetectorEventType, seq: number, fresh: string): { key: string; resumed: boolean } {
    const known = this.keys.get(seq);
    if (known) return { key: known, resumed: false };
    const resumed = type === 'opened' && this.left !== null;
    const key = resumed ? this.left!.key : fresh;
    this.left = null;
    this.keys.set(seq, key);
    if (this.keys.size > 64) this.keys.delete(this.keys.keys().next().value!);
    return { key, resumed };
  }

  /** Kept on disk while open, removed once resolved. */
  record(type: DetectorEventType, key: string, fields: IncidentFields): void {
    if (type === 'resolved') fs.rmSync(this.file, { force: true });
    else writeJsonAtomic(this.file, { key, fields });
  }

  /** Each tick: the left incident to resolve, once the hold time passed with no attack open. */
  expired(active: boolean): Left | null {
    if (!this.left || active || this.now() < this.until) return null;
    const left = this.left;
    this.left = null;
    fs.rmSync(this.file, { force: true });
    return left;
  }
}
