// The agent as a child process whose JSON log lines are kept and can be
// awaited; scripts/lab/agents.ts says which agent runs and with what flags.
import { type ChildProcess, spawn } from 'node:child_process';

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AgentProc {
  child: ChildProcess;
  log: string[];
  exited: Promise<AgentExit>;
  /** Resolves with the first log line (past or future) matching re. */
  waitLog(re: RegExp, ms?: number): Promise<string>;
  /** Called with every log line as it arrives. */
  onLine?: (line: string) => void;
  /** Whether the process still runs. */
  running(): boolean;
  /** Sends `signal` if it still runs, SIGKILL after graceMs; resolves with how it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<AgentExit>;
}

export function spawnAgent(argv: string[], env: NodeJS.ProcessEnv): AgentProc {
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  const onData = (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      log.push(line);
      if (log.length > 20_000) log.splice(0, 10_000);
      p.onLine?.(line);
      for (const w of [...waiters])
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<AgentExit>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const p: AgentProc = {
    child,
    log,
    exited,
    waitLog(re, ms = 15_000) {
      const found = log.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${re} in ${ms} ms; log:\n${log.slice(-20).join('\n')}`)), ms);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    running: () => child.exitCode === null && child.signalCode === null,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (!p.running()) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return p;
}
