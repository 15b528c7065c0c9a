// What Breakwater needs from the kernel, checked before anything is loaded
// so a user reads a sentence instead of a verifier log.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

/** bpf_xdp_load_bytes (5.18) is the newest helper the program calls. */
export const MIN_KERNEL: [number, number] = [5, 18];

/** Options the program cannot run without, and why. */
export const REQUIRED_CONFIG: Record<string, string> = {
  CONFIG_BPF: 'BPF support',
  CONFIG_BPF_SYSCALL: 'the bpf() system call',
  CONFIG_NET: 'networking',
};
/** Options that make it fast or observable; missing ones are notes, not errors. */
export const RECOMMENDED_CONFIG: Record<string, string> = {
  CONFIG_BPF_JIT: 'without the JIT every packet is interpreted (10x slower)',
  CONFIG_DEBUG_INFO_BTF: 'bpftool cannot pretty-print the maps without BTF',
  CONFIG_VETH: 'the lab and the network tests use veth pairs',
};

export interface KernelCheck {
  ok: boolean;
  problems: string[];
  notes: string[];
}

export function parseVersion(rel: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Parses a kernel .config: option name -> 'y' | 'm' | value. */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

function readConfig(rel: string): Map<string, string> | null {
  try {
    if (existsSync('/proc/config.gz')) return parseConfig(gunzipSync(readFileSync('/proc/config.gz')).toString());
    if (existsSync(`/boot/config-${rel}`)) return parseConfig(readFileSync(`/boot/config-${rel}`, 'utf8'));
  } catch {
    /* unreadable: the load itself is the last word */
  }
  return null;
}

export function checkKernel(rel = release(), config = readConfig(rel)): KernelCheck {
  const problems: string[] = [];
  const notes: string[] = [];
  const v = parseVersion(rel);
  if (!v) notes.push(`kernel release '${rel}' not understood; the program load will tell`);
  else if (v[0] < MIN_KERNEL[0] || (v[0] === MIN_KERNEL[0] && v[1] < MIN_KERNEL[1]))
    problems.push(`Linux ${MIN_KERNEL.join('.')} or newer is needed (bpf_xdp_load_bytes, BPF links for XDP); this is ${rel}`);
  if (!config) {
    notes.push('the kernel configuration is not readable (/proc/config.gz, /boot/config-*); options not checked');
  } else {
    for (const [opt, why] of Object.entries(REQUIRED_CONFIG)) if (config.get(opt) !== 'y') problems.push(`${opt}=y is needed (${why})`);
    for (const [opt, why] of Object.entries(RECOMMENDED_CONFIG)) if (!config.get(opt)) notes.push(`${opt} is not set: ${why}`);
  }
  if (process.getuid?.() !== 0) problems.push('Breakwater must run as root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for bpffs)');
  return { ok: problems.length === 0, problems, notes };
}
