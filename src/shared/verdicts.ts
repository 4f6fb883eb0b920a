/**
 * Nodes out of rotation, fleet-wide. Each process writes its own verdict on a node (why it keeps
 * the node out: breaker open, failed health checks, misconfigured, unresponsive) into one hash
 * field of its own, with an `until`, and announces it on a channel; withdrawing deletes the field
 * and announces that. Every process keeps the others' verdicts and hands them to the cluster.
 *
 * Pub/sub carries a change to every process within a round trip; the hash is the readable record:
 * read in full every SYNC_MS (and after every reconnect), so a missed message costs at most that.
 * A verdict holds until its `until`: its process renews it at every sync while it stands, so a
 * process that dies leaves verdicts that end within VERDICT_TTL_MS. An open breaker's verdict ends
 * at the breaker's probe time, when every process may try the node again.
 */
import type { LocalVerdict, VerdictBoard } from '../cluster/fleet.js';
import type { FleetEjection } from '../cluster/host.js';
import type { Logger } from '../log.js';
import type { SharedConnection } from './connection.js';
import type { SharedKeys } from './keys.js';

export interface FleetVerdictsOptions {
  connection: SharedConnection;
  keys: SharedKeys;
  processId: string;
  logger: Logger;
  /** Other processes' standing verdicts on a node, after any change. */
  apply: (node: string, verdicts: FleetEjection[]) => void;
  syncMs?: number;
}

const SYNC_MS = 1_000;
const VERDICT_TTL_MS = 3_000;
/** A field this long past its `until` belongs to a process that is gone: anyone may delete it. */
const STALE_AFTER_MS = 60_000;

interface Announcement {
  node: string;
  by: string;
  verdict?: FleetEjection;
}

interface Mine extends LocalVerdict {
  at: string;
}

export class FleetVerdicts implements VerdictBoard {
  private readonly mine = new Map<string, Mine>();
  private readonly others = new Map<string, Map<string, FleetEjection>>();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly offStateChange: () => void;
  private syncing = false;
  private closed = false;

  constructor(private readonly options: FleetVerdictsOptions) {
    const { connection, keys } = options;
    this.unsubscribe = connection.subscribe(keys.verdicts, (message) => this.receive(message));
    this.offStateChange = connection.onStateChange((state) => {
      if (state === 'up') void this.sync();
    });
    this.timer = setInterval(() => void this.sync(), options.syncMs ?? SYNC_MS);
    this.timer.unref();
    void this.sync();
  }

  announce(node: string, verdict: LocalVerdict | undefined): void {
    const previous = this.mine.get(node);
    if (verdict) {
      const same = previous && previous.reason === verdict.reason;
      this.mine.set(node, { ...verdict, at: same ? previous.at : new Date().toISOString() });
    } else {
      if (!previous) return;
      this.mine.delete(node);
    }
    void this.write(node);
  }

  private record(mine: Mine): FleetEjection {
    return { reason: mine.reason, detail: mine.detail, at: mine.at, by: this.options.processId, until: mine.untilMs ?? Date.now() + VERDICT_TTL_MS };
  }

  private async write(node: string): Promise<void> {
    const { connection, keys, processId } = this.options;
    if (!connection.up) return;
    const mine = this.mine.get(node);
    const field = keys.verdictField(node, processId);
    const announcement: Announcement = { node, by: processId, ...(mine ? { verdict: this.record(mine) } : {}) };
    try {
      await Promise.all([
        mine ? connection.client.hset(keys.verdicts, field, JSON.stringify(announcement.verdict)) : connection.client.hdel(keys.verdicts, field),
        connection.client.publish(keys.verdicts, JSON.stringify(announcement)),
      ]);
    } catch (error) {
      connection.failed(error);
    }
  }

  private receive(message: string): void {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(message) as Announcement;
    } catch {
      return;
    }
    if (typeof announcement?.node !== 'string' || typeof announcement.by !== 'string' || announcement.by === this.options.processId) return;
    const verdict = announcement.verdict && isEjection(announcement.verdict) ? announcement.verdict : undefined;
    let byProcess = this.others.get(announcement.node);
    if (!byProcess) {
      byProcess = new Map();
      this.others.set(announcement.node, byProcess);
    }
    if (verdict) byProcess.set(announcement.by, verdict);
    else byProcess.delete(announcement.by);
    this.options.apply(announcement.node, [...byProcess.values()]);
  }

  /** Renews this process's verdicts and reads everyone's. */
  async sync(): Promise<void> {
    const { connection, keys, processId } = this.options;
    if (this.syncing || this.closed || !connection.up) return;
    this.syncing = true;
    try {
      const pipeline = connection.client.pipeline();
      for (const [node, mine] of this.mine) pipeline.hset(keys.verdicts, keys.verdictField(node, processId), JSON.stringify(this.record(mine)));
      pipeline.hgetall(keys.verdicts);
      const results = (await pipeline.exec()) ?? [];
      const last = results.at(-1);
      if (!last || last[0]) throw last?.[0] ?? new Error('no answer to HGETALL');
      this.replaceOthers(last[1] as Record<string, string>);
    } catch (error) {
      connection.failed(error);
    } finally {
      this.syncing = false;
    }
  }

  private replaceOthers(fields: Record<string, string>): void {
    const { connection, keys, processId } = this.options;
    const now = Date.now();
    const next = new Map<string, Map<string, FleetEjection>>();
    const stale: string[] = [];
    for (const [field, value] of Object.entries(fields)) {
      const split = field.lastIndexOf('\n');
      if (split < 0) continue;
      const node = field.slice(0, split);
      const by = field.slice(split + 1);
      let verdict: unknown;
      try {
        verdict = JSON.parse(value);
      } catch {
        continue;
      }
      if (!isEjection(verdict)) continue;
      if (verdict.until < now - STALE_AFTER_MS) stale.push(field);
      if (by === processId) continue;
      let byProcess = next.get(node);
      if (!byProcess) {
        byProcess = new Map();
        next.set(node, byProcess);
      }
      byProcess.set(by, verdict);
    }
    if (stale.length > 0) connection.client.hdel(keys.verdicts, ...stale).catch(() => undefined);
    const nodes = new Set([...this.others.keys(), ...next.keys()]);
    this.others.clear();
    for (const [node, byProcess] of next) this.others.set(node, byProcess);
    for (const node of nodes) this.options.apply(node, [...(this.others.get(node)?.values() ?? [])]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe();
    this.offStateChange();
    const { connection, keys, processId } = this.options;
    // A process that stops cleanly withdraws its verdicts at once rather than let them run out.
    if (this.mine.size > 0 && connection.up) {
      const nodes = [...this.mine.keys()];
      await Promise.all([
        connection.client.hdel(keys.verdicts, ...nodes.map((node) => keys.verdictField(node, processId))),
        ...nodes.map((node) => connection.client.publish(keys.verdicts, JSON.stringify({ node, by: processId } satisfies Announcement))),
      ]).catch(() => undefined);
    }
    this.mine.clear();
  }
}

function isEjection(value: unknown): value is FleetEjection {
  const v = value as FleetEjection | null;
  return typeof v === 'object' && v !== null && typeof v.reason === 'string' && typeof v.detail === 'string' && typeof v.at === 'string' && typeof v.by === 'string' && typeof v.until === 'number';
}
