/**
 * Active health checks: GET {base}/runtimes on an interval, written to the host view. A node's
 * first check decides its health at once; after that it turns unhealthy after
 * `unhealthy_threshold` failures in a row and healthy after `healthy_threshold` successes. A node
 * that answers like something other than Piston is ejected as misconfigured at once. Nodes out of
 * rotation are checked more often, so that they come back quickly. A liveness probe (`probe`)
 * checks one node now, when an attempt waits on a node that has gone silent; if it fails, the node
 * is ejected as unresponsive. Each successful check also feeds the runtime catalog.
 */
import type { RuntimeListOutcome } from '../piston/outcome.js';
import type { PistonRuntime } from '../piston/types.js';
import type { Host } from './host.js';

export interface HealthTarget {
  readonly host: Host;
  check(timeoutMs: number): Promise<RuntimeListOutcome>;
}

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  /** How often nodes out of rotation are checked. */
  recheckMs: number;
  probeTimeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  onResult?: (node: string, ok: boolean, runtimes?: PistonRuntime[]) => void;
  /** A liveness probe failed: the node stopped answering. */
  onUnresponsive?: (host: Host, why: string) => void;
}

interface Streak {
  ok: number;
  failed: number;
}

export class HealthChecker {
  private readonly streaks = new Map<string, Streak>();
  private readonly probing = new Set<string>();
  private roundTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private roundRunning = false;
  private targets: HealthTarget[] = [];
  private roundsDone = 0;
  private closed = false;

  constructor(private readonly options: HealthOptions) {}

  /** Whether a whole round of checks has finished since start. */
  get firstRoundDone(): boolean {
    return this.roundsDone > 0;
  }

  setTargets(targets: HealthTarget[]): void {
    this.targets = targets;
    for (const name of [...this.streaks.keys()]) if (!targets.some((t) => t.host.name === name)) this.streaks.delete(name);
  }

  /** Starts the rounds, the first one after `delayMs`. */
  start(delayMs = 0): void {
    if (this.roundTimer || this.startTimer || this.closed) return;
    const begin = () => {
      this.startTimer = undefined;
      if (this.closed) return;
      void this.checkAll();
      this.roundTimer = setInterval(() => void this.checkAll(), this.options.intervalMs);
      this.roundTimer.unref();
      this.recheckTimer = setInterval(() => this.recheckOutOfRotation(), this.options.recheckMs);
      this.recheckTimer.unref();
    };
    if (delayMs <= 0) return begin();
    this.startTimer = setTimeout(begin, delayMs);
    this.startTimer.unref();
  }

  /** One round of checks over every node (skipped if the previous round is still running). */
  async checkAll(): Promise<void> {
    if (this.roundRunning) return;
    this.roundRunning = true;
    try {
      await Promise.all(this.targets.map((target) => this.checkOne(target, this.options.timeoutMs)));
      this.roundsDone++;
    } finally {
      this.roundRunning = false;
    }
  }

  /** Checks one node now, with the short probe timeout; a failure ejects it as unresponsive. */
  probe(host: Host): void {
    if (this.closed || this.probing.has(host.name)) return;
    const target = this.targets.find((t) => t.host === host);
    if (!target) return;
    this.probing.add(host.name);
    void this.checkOne(target, this.options.probeTimeoutMs, 'probe').finally(() => this.probing.delete(host.name));
  }

  private recheckOutOfRotation(): void {
    for (const target of this.targets) {
      const host = target.host;
      if ((host.health === 'unhealthy' || host.ejection) && !this.probing.has(host.name)) {
        this.probing.add(host.name);
        void this.checkOne(target, this.options.probeTimeoutMs).finally(() => this.probing.delete(host.name));
      }
    }
  }

  private async checkOne(target: HealthTarget, timeoutMs: number, kind: 'check' | 'probe' = 'check'): Promise<void> {
    const outcome = await target.check(timeoutMs);
    if (this.closed) return;
    const host = target.host;
    this.options.onResult?.(host.name, outcome.ok, outcome.ok ? outcome.runtimes : undefined);
    const streak = this.streaks.get(host.name) ?? { ok: 0, failed: 0 };
    this.streaks.set(host.name, streak);
    if (outcome.ok) {
      host.lastAnswerAt = performance.now();
      streak.ok++;
      streak.failed = 0;
      if (host.health === 'unknown' || (host.health === 'unhealthy' && streak.ok >= this.options.healthyThreshold)) host.health = 'healthy';
      if (host.ejection && (host.ejection.reason === 'misconfigured' || streak.ok >= this.options.healthyThreshold)) host.readmit();
      return;
    }
    streak.failed++;
    streak.ok = 0;
    const fault = outcome.fault;
    host.lastError = { message: `${kind === 'probe' ? 'liveness probe' : 'health check'}: ${fault.message}`, at: new Date().toISOString() };
    if (fault.reason === 'misconfigured') {
      host.eject('misconfigured', fault.message);
      return;
    }
    if (kind === 'probe') {
      host.eject('unresponsive', `liveness probe failed: ${fault.message}`);
      this.options.onUnresponsive?.(host, fault.message);
    }
    if (host.health === 'unknown' || (host.health === 'healthy' && streak.failed >= this.options.unhealthyThreshold)) host.health = 'unhealthy';
  }

  close(): void {
    this.closed = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.roundTimer) clearInterval(this.roundTimer);
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    this.roundTimer = this.recheckTimer = undefined;
  }
}
