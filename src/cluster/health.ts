/**
 * Active health checks: GET /api/v2/runtimes on an interval. A node is marked unhealthy after
 * `unhealthy_threshold` failures in a row and healthy again after `healthy_threshold` successes.
 * Each successful check also feeds the runtime catalog, so checks and catalog share one request.
 */
import type { PistonRuntime } from '../piston/types.js';

export interface HealthTarget {
  readonly name: string;
  healthy: boolean;
  check(timeoutMs: number): Promise<PistonRuntime[]>;
}

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  onResult?: (node: string, ok: boolean, runtimes?: PistonRuntime[]) => void;
  onChange?: (node: string, healthy: boolean) => void;
}

export class HealthChecker {
  private readonly streaks = new Map<string, { ok: number; failed: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private targets: HealthTarget[] = [];

  constructor(private readonly options: HealthOptions) {}

  setTargets(targets: HealthTarget[]): void {
    this.targets = targets;
    for (const name of [...this.streaks.keys()]) if (!targets.some((t) => t.name === name)) this.streaks.delete(name);
  }

  start(): void {
    if (this.timer) return;
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalMs);
    this.timer.unref();
  }

  /** One round of checks over every node (skipped if the previous round is still running). */
  async checkAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(this.targets.map((target) => this.checkOne(target)));
    } finally {
      this.running = false;
    }
  }

  private async checkOne(target: HealthTarget): Promise<void> {
    let runtimes: PistonRuntime[] | undefined;
    try {
      runtimes = await target.check(this.options.timeoutMs);
    } catch {
      runtimes = undefined;
    }
    const ok = runtimes !== undefined;
    this.options.onResult?.(target.name, ok, runtimes);
    const streak = this.streaks.get(target.name) ?? { ok: 0, failed: 0 };
    if (ok) {
      streak.ok++;
      streak.failed = 0;
    } else {
      streak.failed++;
      streak.ok = 0;
    }
    this.streaks.set(target.name, streak);
    if (target.healthy && streak.failed >= this.options.unhealthyThreshold) this.set(target, false);
    else if (!target.healthy && streak.ok >= this.options.healthyThreshold) this.set(target, true);
  }

  private set(target: HealthTarget, healthy: boolean): void {
    target.healthy = healthy;
    this.options.onChange?.(target.name, healthy);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
