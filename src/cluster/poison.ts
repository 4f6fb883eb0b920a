/**
 * What the cluster has learned about poisoned requests: requests that failed the same way on two
 * different nodes (a memory limit below the sandbox's floor, a name that trips Piston), so the
 * fault was the request's, not the nodes'. Kept by the request's fingerprint (the exact body, so a
 * repeat is refused before it is sent) and by the failure's signature (so that a node showing that
 * failure is not charged for it while no other node has given its opinion).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface PoisonRecord {
  /** What the nodes said (redacted), for the error the client gets. */
  detail: string;
  nodes: string[];
}

export interface PoisonMemoryOptions {
  ttlMs: number;
  max?: number;
}

export class PoisonMemory {
  private readonly requests: LRUCache<string, PoisonRecord>;
  private readonly signatures: LRUCache<string, true>;

  constructor(options: PoisonMemoryOptions) {
    const max = options.max ?? 10_000;
    this.requests = new LRUCache({ max, ttl: options.ttlMs });
    this.signatures = new LRUCache({ max: 1_000, ttl: options.ttlMs });
  }

  remember(fingerprint: string, signatures: string[], record: PoisonRecord): void {
    this.requests.set(fingerprint, record);
    for (const signature of signatures) this.signatures.set(signature, true);
  }

  /** The record of this exact request, if it was found poisoned. */
  request(fingerprint: string): PoisonRecord | undefined {
    return this.requests.get(fingerprint);
  }

  /** Requests remembered (none: nothing to look up). */
  get size(): number {
    return this.requests.size;
  }

  isPoisonSignature(signature: string): boolean {
    return this.signatures.has(signature);
  }

  clear(): void {
    this.requests.clear();
    this.signatures.clear();
  }
}

/** Identifies a request body (the language and version resolved, every file, stdin, args and limits). */
export function requestFingerprint(body: string): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 22);
}
