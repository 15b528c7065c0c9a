/**
 * The agent runtime: attaches (or adopts) the XDP program, then every tick
 * reads one snapshot, turns counter deltas into a TrafficSample for the
 * detector, rotates the talker window once a second and spools one metrics
 * sample a second; incident events are spooled too. Besides the tick: the
 * outbox delivers the spool, a heartbeat loop (30 s), the push channel (the
 * config as soon as it changes at the server) and a config loop (60 s, 10 s
 * during an attack, at once at onset) beside it; the pending commands of
 * either become rules, each acknowledged (agent/commands-run.ts); the kernel's rules are reported
 * (agent/rule-report.ts). stop() is the first stage of shutdown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CommandPolicy, type ProtectedEntry, protectedEntries, resolvePolicy } from '../contract/commands/index.ts';
import type { ConfigReply } from '../contract/wire/agent.ts';
import { Breakwater, limits, type Snapshot } from '../native/index.ts';
import { type HeartbeatKernel, heartbeatBody } from './bodies.ts';
import { CommandRunner } from './commands-run.ts';
import type { AgentConfig } from './config.ts';
import { Detector, type DetectorEvent, type DetectorTuning, type TrafficSample, windowPacketsOf } from './detect/index.ts';
import { AgentClient } from './http.ts';
import { kernelState } from './kernel-report.ts';
import type { Logger } from './log.ts';
import { AutoMitigation, closedPortSignature, echoSignature } from './mitigate.ts';
import { Outbox, type SpoolRecord } from './outbox.ts';
import { createConsumers } from './packets/consumers.ts';
import { SurgeWatch } from './packets/surge.ts';
import { SampleTap } from './packets/tap.ts';
import type { SampleConsumer } from './packets/types.ts';
import { connCount, hostView, procNetDir, udpPortsInUse } from './procnet.ts';
import { ProtectedSet } from './protected.ts';
import { PushChannel } from './push.ts';
import { toMetricSample, toTrafficSample } from './rates.ts';
import { OpenIncident } from './resume.ts';
import { RuleReporter } from './rule-report.ts';
import { applyCommand } from './rules.ts';
import { DEFAULT_SAMPLING, onceWeight, TalkerSampling } from './sampling.ts';
import { ServerAddresses } from './server-addresses.ts';
import { Spool } from './spool.ts';
import { IncidentIds, readJson, writeJsonAtomic } from './state.ts';
import { Loop } from './sync.ts';
import { startTicker, type Ticker } from './ticker.ts';

export const AGENT_VERSION = '0.1.0';

function osName(): string {
  const text = (() => {
    try {
      return fs.readFileSync('/etc/os-release', 'utf8');
    } catch {
      return '';
    }
  })();
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

export class Agent {
  readonly bw: Breakwater;
  readonly detector: Detector;
  readonly client: AgentClient;
  readonly outbox: Outbox;
  private readonly spool: Spool<SpoolRecord>;
  private readonly policy: CommandPolicy;
  private readonly auto: AutoMitigation;
  /** Local auto-mitigation: --auto-mitigate, unless the server says otherwise for this node (config auto_mitigate). */
  private autoOn: boolean;
  private readonly bootKey = Date.now().toString(36);
  private readonly startedAt = Date.now();
  private readonly heartbeat: Loop;
  private readonly configLoop: Loop;
  private readonly commands: CommandRunner;
  /** The kernel's rules, reported to the server (agent/rule-report.ts). */
  readonly rulesReport: RuleReporter;
  /** The push channel (agent/push.ts), unless --no-push. */
  readonly push: PushChannel | null;
  private ticker: Ticker | null = null;
  private readonly protect: ProtectedSet;
  private nsViewIncomplete = false;
  private readonly serverAddrs: ServerAddresses;
  private prev: { snap: Snapshot; at: number } | null = null;
  private metricBase: { snap: Snapshot; at: number } | null = null;
  private windowStart = 0;
  /** The snapshot at the start of the talker window. */
  private windowBase: Snapshot | undefined;
  private lastSave = 0;
  private lastPrune = 0;
  private nsCache: { pid?: string; missUntil?: number } = {};
  private readonly sampling: TalkerSampling | null;
  /** The forensics over the kernel's packet samples (agent/packets). */
  private readonly consumers: SampleConsumer[];
  private readonly tap: SampleTap;
  /** Extra ticks when the samples show a flood far over the threshold (agent/packets/surge.ts). */
  private readonly surge: SurgeWatch;
  private readonly extraTicks = new Set<NodeJS.Timeout>();
  /** While the surge's tick of the flood alone is due, the ticker's slots wait for it. */
  private surgeTickDue = false;
  /** The requests an opening sets off, held until the server has the opening (agent/outbox.ts). */
  private afterOpening: { key: string; timer: NodeJS.Timeout } | null = null;
  /** The incident open across a restart (agent/resume.ts). */
  private readonly open: OpenIncident;
  readonly stats = { ticks: 0, samples: 0, events: 0, commandsApplied: 0, commandsFailed: 0, autoDropped: 0 };

  constructor(
    readonly cfg: AgentConfig,
    private readonly log: Logger,
  ) {
    this.policy = resolvePolicy({
      defaultTtlSeconds: cfg.ruleTtlDefault,
      maxTtlSeconds: cfg.ruleTtlMax,
      minPrefixV4: cfg.minPrefixV4,
      minPrefixV6: cfg.minPrefixV6,
    });
    this.client = new AgentClient({ server: cfg.server, nodeUuid: cfg.nodeUuid, apiKey: cfg.apiKey, timeoutMs: 5_000 });
    this.serverAddrs = new ServerAddresses(cfg.server, log);
    this.protect = new ProtectedSet(() => this.readProtected(), log);
    this.spool = new Spool<SpoolRecord>(cfg.spoolDir, cfg.spoolMaxBytes);
    this.outbox = new Outbox(this.spool, this.client, new IncidentIds(path.join(cfg.stateDir, 'incidents.json')), log);
    this.detector = new Detector({ tuning: this.tuning() }, readJson(this.stateFile));
    this.auto = new AutoMitigation({
      ttlSeconds: cfg.autoMitigateTtl,
      maxPerIncident: cfg.autoMitigateMax,
      maxRules: cfg.maxRules,
      policy: this.policy,
    });
    this.autoOn = cfg.autoMitigate;
    this.bw = Breakwater.attach(cfg.iface, { mode: (cfg.mode ?? 'auto') as 'auto', ...(cfg.netns ? { netns: cfg.netns } : {}) });
    // Adaptive sampling starts from what the kernel holds; without it, the
    // fixed 1 in 64 (not whatever a crashed agent left behind).
    if (cfg.talkerSamplesPerSec === 0) this.bw.setTalkerSampling(DEFAULT_SAMPLING.maxPeriod);
    this.sampling =
      cfg.talkerSamplesPerSec > 0
        ? new TalkerSampling(this.bw.config().talkerSamplePeriod, { ...DEFAULT_SAMPLING, targetPerSec: cfg.talkerSamplesPerSec })
        : null;
    this.open = new OpenIncident(path.join(cfg.stateDir, 'open-incident.json'), cfg.resolveHoldMs + 3000);
    if (this.open.pending)
      log.info('an incident was open when the agent last stopped: resumed if the attack goes on, else resolved', {
        key: this.open.pending,
      });
    this.consumers = createConsumers({ cfg, log });
    this.surge = new SurgeWatch((delayMs) => {
      if (delayMs === 0) this.log.debug('surge in the packet samples: two ticks out of schedule');
      else this.surgeTickDue = true;
      this.extraTick(delayMs);
    });
    this.outbox.onIncidentSent = (type, key) => {
      if (type === 'opened' && this.afterOpening?.key === key) this.releaseOpening();
    };
    this.tap = new SampleTap(this.bw, [...this.consumers, this.surge]);
    const info = this.bw.info;
    log.info(info.adopted ? 'adopted the pinned program' : 'attached', {
      iface: cfg.iface,
      netns: cfg.netns,
      mode: info.mode,
      upgraded: info.upgraded,
      rules: this.bw.ruleCount,
      spooled: this.spool.length,
    });
    const warn = (what: string) => (e: unknown, retryInMs: number) =>
      log.warn(`${what} failed`, { error: (e as Error).message, retryInMs });
    this.heartbeat = new Loop(
      () => this.sendHeartbeat(),
      () => cfg.heartbeatMs,
      warn('heartbeat'),
    );
    this.configLoop = new Loop(
      () => this.pollConfig(),
      () => (this.detector.active ? cfg.configAttackMs : cfg.configMs),
      warn('config poll'),
    );
    this.rulesReport = new RuleReporter({ client: this.client, log, read: () => kernelState(this.bw), active: () => this.detector.active });
    this.commands = new CommandRunner({
      client: this.client,
      log,
      stats: this.stats,
      prepare: async () => {
        await this.protect.forBatch();
      },
      apply: (cmd) =>
        this.rulesReport.afterCommand(
          cmd,
          applyCommand(cmd, { policy: this.policy, protect: this.protect.entries, maxRules: this.cfg.maxRules, table: this.bw }),
          this.bw,
        ),
      // Reported once the server has the answer: a report it gets later then shows the rule.
      answered: (_, out) => {
        if (out.status === 'applied') this.rulesReport.changed();
      },
    });
    this.push = cfg.push ? new PushChannel(this.client, (c) => this.applyConfig(c), log) : null;
  }

  private get stateFile(): string {
    return path.join(this.cfg.stateDir, 'detector.json');
  }

  async start(): Promise<void> {
    this.syncAllowlist();
    // Read first; if it cannot be, the agent still detects and reports, and refuses commands until it can (said by the set).
    await this.protect.forBatch().catch(() => {});
    this.outbox.start();
    this.heartbeat.start();
    this.configLoop.start();
    this.push?.start();
    this.rulesReport.start();
    this.tap.start();
    this.ticker = startTicker(
      this.cfg.tickMs,
      () => {
        if (!this.surgeTickDue) this.tick();
      },
      (e) => this.log.error('tick failed', { error: (e as Error).message }),
    );
  }

  /** The kernel allowlist is exactly the configured local allowlist. */
  private syncAllowlist(): void {
    const want = new Set(this.cfg.allowlist.map((a) => (a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`)));
    for (const a of this.bw.listAllow()) {
      const key = `${a.address}/${a.prefixLen}`;
      if (!want.delete(key)) this.bw.disallow(key);
    }
    for (const a of want) this.bw.allow(a);
  }

  /** Addresses no rule may drop: the server's, the host's, the gateways, the allowlist. */
  private async readProtected(): Promise<ProtectedEntry[]> {
    const server = await this.serverAddrs.current();
    const view = hostView(this.cfg.netns, this.nsCache);
    // Read every second: said when it starts, not each time.
    if (!view.complete && !this.nsViewIncomplete)
      this.log.debug('no process lives in the namespace: only the agent namespace addresses and gateways are protected', {
        netns: this.cfg.netns,
      });
    this.nsViewIncomplete = !view.complete;
    return protectedEntries({
      server,
      host: view.addresses,
      gateway: view.gateways,
      allowlist: this.cfg.allowlist,
    });
  }

  /** The detector tuning the settings override. */
  private tuning(): Partial<DetectorTuning> {
    return { holdMs: this.cfg.resolveHoldMs };
  }

  private tick(): void {
    const at = performance.now();
    const snap = this.readSnapshot(at);
    this.stats.ticks++;
    this.protect.tick(at);
    if (this.prev) {
      const sample = toTrafficSample(this.prev.snap, snap, {
        timestampMs: at,
        intervalMs: at - this.prev.at,
        windowMs: at - this.windowStart,
        windowBase: this.windowBase,
      });
      for (const ev of this.detector.push(sample)) this.onEvent(ev);
      if (this.autoOn && this.detector.flooding) this.autoStep(sample);
      this.adaptSampling(sample.pps, at);
      const left = this.open.expired(this.detector.active);
      if (left) {
        this.outbox.push({ k: 'i', key: left.key, type: 'resolved', fields: left.fields });
        this.log.info('the incident open when the agent last stopped is over: resolved', { key: left.key });
      }
      this.tap.adapt(sample.pps, this.detector.active);
      const thr = this.detector.thresholds();
      this.surge.update({ pps: thr.pps, bps: thr.bps, period: this.tap.samplePeriod, armed: !this.detector.active });
    } else {
      this.windowStart = at;
      this.windowBase = snap;
      this.metricBase = { snap, at };
    }
    this.prev = { snap, at };
    const half = this.cfg.tickMs / 2;
    if (at - this.windowStart >= 1000 - half) {
      this.bw.rotateWindow();
      this.sampling?.rotate();
      this.windowStart = at;
      this.windowBase = snap;
    }
    if (this.metricBase && at - this.metricBase.at >= this.cfg.metricsMs - half) {
      const conn = connCount(procNetDir(this.cfg.netns, this.nsCache));
      const m = toMetricSample(this.metricBase.snap, snap, at - this.metricBase.at, new Date(), conn);
      this.outbox.push({ k: 'm', s: m });
      this.stats.samples++;
      this.metricBase = { snap, at };
    }
    const wall = Date.now();
    if (wall - this.lastPrune >= 10_000) {
      this.lastPrune = wall;
      if (this.bw.pruneExpiredRules().length) this.rulesReport.changed();
    }
    if (wall - this.lastSave >= 60_000 && !this.detector.active) this.saveState(wall);
  }

  /** A tick out of schedule (the surge watch's); the ticker's slots stay as they are. */
  private extraTick(delayMs: number): void {
    const t = setTimeout(() => {
      this.extraTicks.delete(t);
      if (delayMs > 0) this.surgeTickDue = false;
      try {
        this.tick();
      } catch (e) {
        this.log.error('tick failed', { error: (e as Error).message });
      }
    }, delayMs);
    this.extraTicks.add(t);
  }

  /**
   * Counters every tick; the talker tables (the costly part of a read) only
   * when there is IP traffic to attribute, and once a second regardless. An
   * idle host then pays for counters alone; any traffic keeps the detector's
   * memory of normal sources fed on every tick.
   */
  private readSnapshot(at: number): Snapshot {
    const snap = this.bw.snapshot(0);
    const prev = this.prev;
    const dueWindow = at - this.windowStart >= 1000 - this.cfg.tickMs * 1.5;
    const ip = (s: Snapshot) => s.counters.ipv4 + s.counters.ipv6;
    if (!prev || dueWindow || ip(snap) !== ip(prev.snap)) {
      const full = this.bw.snapshot(32);
      // A full talker table rewritten during the read (a spoofed flood): the
      // top lists come from the entries read. Said when it starts, not each tick.
      if (full.talkersCut && !prev?.snap.talkersCut)
        this.log.warn('talker tables changed under the read; top talkers come from the rest', { cut: full.talkersCut });
      return full;
    }
    return snap;
  }

  private saveState(wall = Date.now()): void {
    this.lastSave = wall;
    try {
      writeJsonAtomic(this.stateFile, this.detector.exportState());
    } catch (e) {
      this.log.warn('cannot save the detector state', { error: (e as Error).message });
    }
  }

  private onEvent(ev: DetectorEvent): void {
    this.stats.events++;
    const { key, resumed } = this.open.keyFor(ev.type, ev.extension.seq, `${this.bootKey}-${ev.extension.seq}`);
    if (resumed) this.log.info('resumed the incident that was open when the agent last stopped', { key });
    for (const c of this.consumers) c.onIncident?.(ev, key);
    const forensics = Object.assign({}, ...this.consumers.map((c) => c.reportFields?.() ?? {}));
    const fields = { ...ev.incident, attack_subtype: ev.extension.attack_subtype, ...forensics };
    this.outbox.push({ k: 'i', key, type: ev.type, fields });
    this.open.record(ev.type, key, fields);
    const info = {
      family: ev.incident.attack_family,
      subtype: ev.extension.attack_subtype,
      severity: ev.incident.severity,
      peak_pps: ev.incident.peak_pps,
    };
    if (ev.type === 'opened') {
      this.log.warn('attack detected', info);
      this.auto.reset();
      // The opening goes first: the config poll and the rule report it sets off wait until the server
      // has it (or a second), so that they do not queue before it at the server.
      if (this.afterOpening) this.releaseOpening();
      this.afterOpening = { key, timer: setTimeout(() => this.releaseOpening(), 1_000) };
    } else if (ev.type === 'resolved') {
      this.log.info('attack over', info);
    }
  }

  private releaseOpening(): void {
    if (!this.afterOpening) return;
    clearTimeout(this.afterOpening.timer);
    this.afterOpening = null;
    this.configLoop.kick();
    this.rulesReport.changed(); // and every 5 s from now
  }

  /** Talker sampling follows the measured rate (agent/sampling.ts). */
  private adaptSampling(pps: number, at: number): void {
    if (!this.sampling) return;
    const want = this.sampling.next(pps, at);
    if (want === this.sampling.period) return;
    this.bw.setTalkerSampling(want);
    this.sampling.set(want);
    this.log.debug('talker sampling', { period: want, pps: Math.round(pps) });
  }

  private autoStep(s: TrafficSample): void {
    // The window's exact packet count: the tick's rate times the window
    // overstates it for a pulsed flood (a burst tick), and the one heavy
    // source then seems to carry too little of it.
    const windowPackets = windowPacketsOf(s, 'all');
    // A source seen on one sample only (its count is one admitted sample's
    // weight) is what a spoofed flood looks like: no evidence to drop it on.
    const once = onceWeight(this.sampling?.windowMax ?? DEFAULT_SAMPLING.maxPeriod, limits.talkerAdmit);
    const seenAgain = s.topSources.filter((x) => x.count > once);
    const table = this.rulesReport.localTable(this.bw); // its rules are reported as local
    const { added, covered } = this.auto.step(seenAgain, windowPackets, this.detector.normalSources, this.protect.entries, table);
    if (added.length) {
      this.stats.autoDropped += added.length;
      this.log.warn('auto-mitigation dropped sources', { sources: added, ttl: this.cfg.autoMitigateTtl });
    }
    if (covered) return;
    const sig = echoSignature(s) ?? closedPortSignature(s, udpPortsInUse(procNetDir(this.cfg.netns, this.nsCache)));
    const rules = sig ? this.auto.stepSignature(sig, table) : [];
    if (rules.length) {
      this.stats.autoDropped += rules.length;
      this.log.warn('auto-mitigation dropped a signature', { rules, ttl: this.cfg.autoMitigateTtl });
    }
  }

  private async sendHeartbeat(): Promise<void> {
    const uptime = (Date.now() - this.startedAt) / 1000;
    await this.client.request('POST', '/heartbeat', heartbeatBody(AGENT_VERSION, uptime, osName(), this.heartbeatKernel()));
  }

  /** The kernel's kill switch and rules for the heartbeat; a kernel that cannot be read leaves them out, not the heartbeat. */
  private heartbeatKernel(): HeartbeatKernel | undefined {
    try {
      return { killSwitch: this.bw.config().killSwitch, rules: this.bw.listRules() };
    } catch (e) {
      this.log.debug('heartbeat without the kernel state', { error: (e as Error).message });
      return undefined;
    }
  }

  private async pollConfig(): Promise<void> {
    await this.applyConfig(await this.client.request<Partial<ConfigReply>>('GET', '/config'));
  }

  /** A config from the poll or the push channel: consumers, thresholds, then its pending commands. */
  private applyConfig(c: Partial<ConfigReply>): Promise<void> {
    for (const consumer of this.consumers) consumer.onConfig?.(c);
    const base = c.baseline && typeof c.baseline.p99_pps === 'number' ? c.baseline : null;
    this.detector.setConfig({
      ppsThreshold: c.pps_threshold ?? null,
      bpsThreshold: c.bps_threshold ?? null,
      mode: c.threshold_mode,
      floorPps: c.floor_pps ?? null,
      serverBaseline: base,
      tuning: this.tuning(),
    });
    const auto = typeof c.auto_mitigate === 'boolean' ? c.auto_mitigate : this.cfg.autoMitigate;
    if (auto !== this.autoOn) {
      this.autoOn = auto;
      this.log.info(`local auto-mitigation ${auto ? 'on' : 'off'}`, {
        from: typeof c.auto_mitigate === 'boolean' ? 'server' : 'local setting',
      });
    }
    if (typeof c.kill_switch === 'boolean' && c.kill_switch !== this.bw.config().killSwitch) {
      this.bw.setKillSwitch(c.kill_switch);
      this.rulesReport.changed();
      if (c.kill_switch) this.log.warn('kill switch on (from the server): nothing is dropped, everything is counted');
      else this.log.info('kill switch off (from the server): rules drop again');
    }
    return this.commands.run(c.pending_commands ?? []);
  }

  /** First stage of shutdown: stop the tick and loops, flush, save, close the spool and the addon. */
  async stop(flushMs = 3_000): Promise<void> {
    await this.ticker?.stop();
    for (const t of this.extraTicks) clearTimeout(t);
    this.extraTicks.clear();
    if (this.afterOpening) clearTimeout(this.afterOpening.timer);
    this.afterOpening = null;
    this.tap.stop();
    for (const c of this.consumers) await c.stop?.();
    await Promise.all([this.heartbeat.stop(), this.configLoop.stop(), this.push?.stop(), this.rulesReport.stop()]);
    await this.outbox.stop(Date.now() + flushMs);
    this.client.close();
    this.saveState();
    this.spool.close();
    if (this.cfg.detachOnExit) {
      this.bw.detach();
      this.log.info('detached: program and rules removed', { iface: this.cfg.iface });
    } else if (this.sampling) {
      // Left without an agent, the program should sample at its cheapest: a
      // flood then costs what it costs at 1 in 64, whatever the last rate was.
      this.bw.setTalkerSampling(DEFAULT_SAMPLING.maxPeriod);
    }
    this.bw.close();
  }

  get spooled(): number {
    return this.spool.length;
  }
}
