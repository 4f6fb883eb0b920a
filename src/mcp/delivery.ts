/**
 * Tool calls are counted when their answer's fate is known, so that no call counts as ok whose
 * answer never reached its client (the client left, the answer was too large, the write failed).
 *
 * The tool handler says when a call begins and how it ended; the transport that carries the
 * answer says whether it was delivered, or that the request was abandoned (its client cancelled
 * or went away, so the SDK drops the answer). A transport that cannot tell (the SDK's own session
 * transport) leaves the ledger immediate: calls are counted as they end.
 */
import type { RequestId } from '@modelcontextprotocol/server';

export type CountToolCall = (tool: string, outcome: string, seconds: number) => void;

/** Where a transport reports what became of each answer it carries. */
export interface DeliveryReport {
  delivered(id: RequestId, ok: boolean): void;
  abandoned(id: RequestId): void;
}

type Entry = { state: 'running' } | { state: 'abandoned' } | { state: 'answered'; tool: string; outcome: string; seconds: number };

export class DeliveryLedger implements DeliveryReport {
  private readonly entries = new Map<RequestId, Entry>();
  private deferred = false;

  constructor(private readonly count: CountToolCall | undefined) {}

  /** Called by a transport that reports delivered/abandoned for every answer it carries. */
  deferUntilDelivered(): void {
    this.deferred = true;
  }

  /** Calls begun and not yet counted (for tests: it returns to 0). */
  get open(): number {
    return this.entries.size;
  }

  begin(id: RequestId): void {
    if (this.deferred) this.entries.set(id, { state: 'running' });
  }

  answered(id: RequestId, tool: string, outcome: string, seconds: number): void {
    if (!this.deferred) return this.count?.(tool, outcome, seconds);
    const entry = this.entries.get(id);
    if (entry?.state === 'abandoned') {
      this.entries.delete(id);
      this.count?.(tool, 'undelivered', seconds);
      return;
    }
    this.entries.set(id, { state: 'answered', tool, outcome, seconds });
  }

  /** The transport wrote the answer to `id` (ok) or could not. */
  delivered(id: RequestId, ok: boolean): void {
    const entry = this.entries.get(id);
    if (entry?.state !== 'answered') return;
    this.entries.delete(id);
    this.count?.(entry.tool, ok ? entry.outcome : 'undelivered', entry.seconds);
  }

  /** The request was cancelled or its client went away: its answer, whenever it comes, is never sent. */
  abandoned(id: RequestId): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (entry.state === 'running') this.entries.set(id, { state: 'abandoned' });
    else this.delivered(id, false);
  }
}
