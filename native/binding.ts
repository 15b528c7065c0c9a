// The raw addon (build/Release/breakwater.node) and its types. Only
// native/index.ts and the classes it exports use this file directly.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTOCOLS, type Protocol } from '../contract/rule.ts';
import { COUNTER_NAMES, type CounterName } from './counters.ts';

export interface RawPrefix {
  family: 4 | 6;
  address: Buffer;
  prefixLen: number;
}
/** A rule match as the addon reads it (native/rule-key.cc encodes it for the kernel). */
export interface RawRuleMatch extends RawPrefix {
  protocol?: Protocol;
  port?: number;
  icmpType?: number;
}
export interface RawRule extends RawRuleMatch {
  mode: 'drop' | 'log';
  expiresAt?: number;
  slot: number;
  resetStats?: boolean;
}

export interface RuleEntry {
  family: 4 | 6;
  address: string;
  prefixLen: number;
  /** null: any protocol. */
  protocol: Protocol | null;
  /** 0: any port (and for ICMP by type). */
  port: number;
  /** ICMP rules by type: the type. */
  icmpType?: number;
  /** The rule's shape bit (BW_CLASS_BIT of bpf/breakwater.h), for the kernel's "which shapes exist". */
  classBit: number;
  mode: 'drop' | 'log';
  /** Wall-clock ms; 0 = never. */
  expiresAt: number;
  expired: boolean;
  slot: number;
  packets: number;
  bytes: number;
}

export interface AllowEntry {
  family: 4 | 6;
  address: string;
  prefixLen: number;
}

/** Talker counts: `packets`/`bytes` in the current window, `prev*` in the one before. */
export interface TalkerCounts {
  packets: number;
  bytes: number;
  prevPackets: number;
  prevBytes: number;
}
export interface SourceTalker extends TalkerCounts {
  ip: string;
}
export interface PortTalker extends TalkerCounts {
  kind: 'tcpDst' | 'udpDst' | 'udpSrc';
  port: number;
}

export interface RawSnapshot {
  /** Summed over CPUs. Numbers are exact up to 2^53 (centuries at line rate). */
  counters: Record<CounterName, number>;
  lengthHistogram: number[];
  ttlHistogram: number[];
  epoch: number;
  hllCurrent: Buffer;
  hllPrevious: Buffer;
  topSources: SourceTalker[];
  topPorts: PortTalker[];
  /**
   * Talker entries this read saw but could not keep (0 when topN is 0): the
   * tables changed under a full read (a spoofed flood into a full table), so
   * the walk met more entries than a table holds. The top lists come from
   * the rest; the read itself never fails for it.
   */
  talkersCut: number;
}

/** Prefix lengths in use (host rules, /32 and /128, are never listed), longest first. */
export interface PrefixLengths {
  /** Prefix-only rules. */
  any: number[];
  /** Rules with a protocol and no port. */
  protocol: number[];
  /** Rules with a port or an ICMP type. */
  port: number[];
}

export interface KernelConfig {
  killSwitch: boolean;
  samplePeriod: number;
  sampleMaxPerSec: number;
  talkerSamplePeriod: number;
  epoch: number;
  ruleClasses: number;
  allowFamilies: number;
}

export interface Sample {
  timestampNs: bigint;
  length: number;
  verdict: 'pass' | 'drop' | 'allow' | 'log' | 'malformed';
  data: Buffer;
}

export interface ProgramInfo {
  open: boolean;
  iface: string | null;
  ifindex: number;
  mode: 'native' | 'generic' | 'unknown' | null;
  adopted: boolean;
  /** Adopted, and this build's program (which differed) put into the pinned link; rules and counters kept. */
  upgraded: boolean;
  pinDir: string | null;
  possibleCpus: number;
}

export type AttachMode = 'native' | 'generic' | 'auto';

export interface RawProgram {
  info(): ProgramInfo;
  detach(): void;
  close(): void;
  testRun(packet: Buffer, repeat?: number): { retval: number; durationNs: number };
  snapshot(topN?: number): RawSnapshot;
  getConfig(): KernelConfig;
  setConfig(partial: Partial<KernelConfig>): void;
  clearHll(parity: number): void;
  /** Returns the rule's class bit. */
  putRule(rule: RawRule): number;
  deleteRule(match: RawRuleMatch): boolean;
  listRules(): RuleEntry[];
  putAllow(prefix: RawPrefix): void;
  deleteAllow(prefix: RawPrefix): boolean;
  listAllow(): AllowEntry[];
  /** The prefix lengths the kernel probes for a packet from this source (a full-length prefix), per rule shape, longest first. */
  prefixLengths(source: RawPrefix): PrefixLengths;
  startSamples(cb: (samples: Sample[]) => void): void;
  stopSamples(): void;
}

export { COUNTER_NAMES, type CounterName } from './counters.ts';

interface Addon {
  Program: new (opts: {
    iface?: string;
    netns?: string;
    mode?: AttachMode;
    pinRoot?: string;
    adoptOnly?: boolean;
    benchSourceMask?: number;
  }) => RawProgram;
  limits: {
    maxRules: number;
    maxAllow: number;
    maxSourceTalkers: number;
    maxPortTalkers: number;
    maxVlanTags: number;
    /** Tags skipped at most, past maxVlanTags, to find the source (the packet is then malformed). */
    maxVlanSeek: number;
    maxExtensionHeaders: number;
    hllRegisters: number;
    sampleBytes: number;
    /** A new talker key is admitted 1 sample in talkerAdmit and weighted by it. */
    talkerAdmit: number;
  };
  counterNames: string[];
  /** BW_RULE_PROTOCOL_LIST of bpf/breakwater.h. */
  ruleProtocols: string[];
  testRunPinned(path: string, packet: Buffer, repeat: number): { retval: number; durationNs: number };
  replaceLinkProgram(linkPin: string, progPin: string): void;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function load(): Addon {
  const file = path.join(root, 'build', 'Release', 'breakwater.node');
  try {
    return createRequire(import.meta.url)(file) as Addon;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const wrapped = new Error(
      `the native addon is not built (${file}): run 'npm run setup' as root, or 'npm run build'; cause: ${e.message}`,
    ) as NodeJS.ErrnoException;
    wrapped.code = 'ENOADDON';
    throw wrapped;
  }
}

export const addon = load();

// The rule protocols are named once in bpf/breakwater.h for the kernel side and
// once in the contract for user space; the addon must encode exactly those.
if (addon.ruleProtocols.join() !== PROTOCOLS.join())
  throw new Error(`bpf/breakwater.h BW_RULE_PROTOCOL_LIST (${addon.ruleProtocols.join()}) is out of date with contract/rule.ts PROTOCOLS`);

// The counter list is declared once in bpf/breakwater.h; the type above must follow it.
if (addon.counterNames.join() !== COUNTER_NAMES.join())
  throw new Error(`native/binding.ts COUNTER_NAMES is out of date with bpf/breakwater.h: ${addon.counterNames.join()}`);
