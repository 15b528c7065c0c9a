/**
 * Breakwater's kernel half, as TypeScript sees it. The rest of the code
 * imports only this module.
 *
 *   const bw = Breakwater.attach('eth0', { mode: 'auto' }); // or adopts the pinned one
 *   bw.addRule({ source: '203.0.113.0/24', protocol: 'udp', port: 53, ttlSeconds: 600 });
 *   const snap = bw.snapshot();        // every counter and distribution
 *   bw.rotateWindow();                 // once a second: talker and source windows
 *   bw.close();                        // program and rules stay in the kernel
 *   Breakwater.detachInterface('eth0') // removes program, link and pins
 */

import { prefixOf } from '../contract/net/prefix.ts';
import {
  type AllowEntry,
  type AttachMode,
  addon,
  type KernelConfig,
  type PrefixLengths,
  type ProgramInfo,
  type RawProgram,
  type RawSnapshot,
  type RuleEntry,
  type Sample,
} from './binding.ts';
import { estimateDistinct } from './hll.ts';
import { checkKernel } from './kernel.ts';
import { RuleBook, RuleError, type RuleSpec, rawPrefix } from './rules.ts';

export type {
  AllowEntry,
  AttachMode,
  CounterName,
  KernelConfig,
  PortTalker,
  PrefixLengths,
  ProgramInfo,
  RuleEntry,
  Sample,
  SourceTalker,
} from './binding.ts';
export { COUNTER_NAMES } from './binding.ts';
export { estimateDistinct } from './hll.ts';
export { checkKernel, type KernelCheck, MIN_KERNEL } from './kernel.ts';
export { type Protocol, RuleError, type RuleSpec } from './rules.ts';

export const limits = addon.limits;

export interface Snapshot extends Omit<RawSnapshot, 'hllCurrent' | 'hllPrevious'> {
  /** Distinct source addresses (HyperLogLog, ~1.6% error) in this window and the last. */
  distinctSources: { current: number; previous: number };
  /** The estimator's registers of this window and the last (a register-wise max of several is their union). */
  hll: { current: Uint8Array; previous: Uint8Array };
}

export interface AttachOptions {
  mode?: AttachMode;
  /** bpffs mount; pins go under <pinRoot>/breakwater/[netns-<name>/]<iface>. */
  pinRoot?: string;
  /** Network namespace (a name under /var/run/netns, or a path) holding iface. */
  netns?: string;
}

export class Breakwater {
  private readonly rules: RuleBook;

  private constructor(private readonly prog: RawProgram) {
    this.rules = new RuleBook(prog, addon.limits.maxRules);
    this.syncAllowFamilies();
  }

  /** Attaches to iface, or adopts the program already pinned for it (rules and counters intact). */
  static attach(iface: string, opts: AttachOptions = {}): Breakwater {
    if (!/^[\w.@:-]{1,15}$/.test(iface)) throw new RuleError('EINVAL', 'attach', `'${iface}' is not a network interface name`);
    const kernel = checkKernel();
    if (!kernel.ok) {
      const err = new Error(`attach: this host cannot run Breakwater: ${kernel.problems.join('; ')}`) as NodeJS.ErrnoException;
      err.code = 'EKERNEL';
      throw err;
    }
    return new Breakwater(new addon.Program({ iface, mode: opts.mode ?? 'auto', pinRoot: opts.pinRoot, netns: opts.netns }));
  }

  /**
   * Loads an unattached instance for BPF_PROG_TEST_RUN (tests and benchmarks).
   * benchSourceMask: benchmark builds draw a random number per packet and put
   * it into the IPv4 source bits under the mask (0xffffffff: spoofed flood).
   */
  static loadForTest(opts: { benchSourceMask?: number } = {}): Breakwater {
    return new Breakwater(new addon.Program({ benchSourceMask: opts.benchSourceMask }));
  }

  /** Removes Breakwater from iface: program, link and pins. Throws ENOENT if it is not there. */
  static detachInterface(iface: string, opts: { pinRoot?: string; netns?: string } = {}): void {
    new addon.Program({ iface, adoptOnly: true, pinRoot: opts.pinRoot, netns: opts.netns }).detach();
  }

  get info(): ProgramInfo {
    return this.prog.info();
  }

  snapshot(topN = 32): Snapshot {
    return toSnapshot(this.prog.snapshot(topN));
  }

  /** Starts a new window for the talker tables and the source estimator. */
  rotateWindow(): number {
    const next = (this.prog.getConfig().epoch + 1) >>> 0;
    this.prog.clearHll(next & 1);
    this.prog.setConfig({ epoch: next });
    return next;
  }

  config(): KernelConfig {
    return this.prog.getConfig();
  }

  /** Stops all dropping at once (rules still count, as log-only); false resumes. */
  setKillSwitch(on: boolean): void {
    this.prog.setConfig({ killSwitch: on });
  }

  /** Samples 1 in `period` packets (0 = off), at most maxPerSec per CPU. */
  setSampling(period: number, maxPerSec = 1000): void {
    if (!Number.isInteger(period) || period < 0) throw new RuleError('EINVAL', 'setSampling', 'period must be 0 or a positive integer');
    if (!Number.isInteger(maxPerSec) || maxPerSec < 0)
      throw new RuleError('EINVAL', 'setSampling', 'maxPerSec must be a non-negative integer');
    this.prog.setConfig({ samplePeriod: period, sampleMaxPerSec: maxPerSec });
  }

  /** 1 in `period` packets updates the talker tables (a power of two; 1 = every packet). */
  setTalkerSampling(period: number): void {
    if (!Number.isInteger(period) || period < 1 || (period & (period - 1)) !== 0)
      throw new RuleError('EINVAL', 'setTalkerSampling', 'period must be a power of two');
    this.prog.setConfig({ talkerSamplePeriod: period });
  }

  addRule(spec: RuleSpec): void {
    this.rules.put(spec);
  }

  deleteRule(spec: RuleSpec): boolean {
    return this.rules.delete(spec);
  }

  /** True when a rule with the same match (source, protocol, port or ICMP type) is in force or expired but not yet pruned. */
  hasRule(spec: RuleSpec): boolean {
    return this.rules.has(spec);
  }

  listRules(): RuleEntry[] {
    return this.prog.listRules();
  }

  pruneExpiredRules(): RuleEntry[] {
    return this.rules.pruneExpired();
  }

  get ruleCount(): number {
    return this.rules.size;
  }

  allow(source: string): void {
    this.prog.putAllow(allowPrefix(source));
    this.syncAllowFamilies();
  }

  disallow(source: string): boolean {
    const existed = this.prog.deleteAllow(allowPrefix(source));
    this.syncAllowFamilies();
    return existed;
  }

  /** Tells the kernel which families have an allowlist, so others skip the lookup. */
  private syncAllowFamilies(): void {
    let bits = 0;
    for (const a of this.prog.listAllow()) bits |= a.family === 4 ? 1 : 2;
    this.prog.setConfig({ allowFamilies: bits });
  }

  listAllow(): AllowEntry[] {
    return this.prog.listAllow();
  }

  /**
   * The prefix lengths a packet from `source` (an address) is looked up at,
   * per rule shape, longest first: the kernel's index of lengths in use.
   */
  prefixLengths(source: string): PrefixLengths {
    const p = prefixOf(source);
    if (p.length !== (p.family === 4 ? 32 : 128)) throw new RuleError('EINVAL', 'prefixLengths', 'expected an address, not a prefix');
    return this.prog.prefixLengths(rawPrefix(p));
  }

  onSamples(cb: (samples: Sample[]) => void): void {
    this.prog.startSamples(cb);
  }

  stopSamples(): void {
    this.prog.stopSamples();
  }

  testRun(packet: Buffer, repeat = 1): { retval: number; durationNs: number } {
    return this.prog.testRun(packet, repeat);
  }

  /** Removes the program from the interface and deletes its pins. */
  detach(): void {
    this.prog.detach();
  }

  /** Lets go of the kernel objects; an attached program keeps running. Idempotent. */
  close(): void {
    this.prog.close();
  }
}

/** An allowlist entry: an address or prefix, by the contract's parser (host bits refused). */
function allowPrefix(source: string) {
  try {
    return rawPrefix(prefixOf(source));
  } catch (e) {
    throw new RuleError('EINVAL', 'allow', (e as Error).message);
  }
}

function toSnapshot(raw: RawSnapshot): Snapshot {
  const { hllCurrent, hllPrevious, ...rest } = raw;
  return {
    ...rest,
    distinctSources: { current: estimateDistinct(hllCurrent), previous: estimateDistinct(hllPrevious) },
    hll: { current: hllCurrent, previous: hllPrevious },
  };
}

/**
 * A read-only view of the program pinned for an interface, for a second
 * process beside the agent (the lab's live view): counters and rules. It
 * never writes to the kernel, so it cannot race the agent's own updates.
 */
export class PinnedView {
  private constructor(private readonly prog: RawProgram) {}

  /** Throws ENOENT when nothing is pinned for iface. */
  static open(iface: string, opts: { pinRoot?: string; netns?: string } = {}): PinnedView {
    return new PinnedView(new addon.Program({ iface, adoptOnly: true, pinRoot: opts.pinRoot, netns: opts.netns }));
  }

  snapshot(topN = 0): Snapshot {
    return toSnapshot(this.prog.snapshot(topN));
  }

  listRules(): RuleEntry[] {
    return this.prog.listRules();
  }

  config(): KernelConfig {
    return this.prog.getConfig();
  }

  close(): void {
    this.prog.close();
  }
}

/** BPF_PROG_TEST_RUN on another pinned XDP program (benchmarks compare with the same harness). */
export function testRunPinned(path: string, packet: Buffer, repeat = 1): { retval: number; durationNs: number } {
  return addon.testRunPinned(path, packet, repeat);
}

/** Puts a pinned program into a pinned XDP link (tests: an older program under an agent that is upgraded). */
export function replaceLinkProgram(linkPin: string, progPin: string): void {
  addon.replaceLinkProgram(linkPin, progPin);
}

export const XDP_PASS = 2;
export const XDP_DROP = 1;
