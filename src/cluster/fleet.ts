/**
 * What the cluster asks of the other pistom processes that serve the same nodes (the fleet). Each
 * part is optional: without a shared store (src/shared, on Redis) the cluster runs in-process
 * exactly as before, and none of these is called.
 *
 * - `slots`: a node's max_concurrent and rate_limit held across the fleet. The dispatcher asks for
 *   a lease after its own limiter, right before sending, and releases it when the attempt is over.
 * - `verdicts`: when this process takes a node out of rotation (breaker open, failed health checks,
 *   misconfigured, unresponsive) or puts it back, it tells the fleet; what the other processes say
 *   comes back through `Cluster.applyFleetVerdicts` into the host view.
 * - `catalog`: runtime lists fetched once per TTL for the whole fleet.
 */
import type { NodeConfig } from '../config/schema.js';
import type { PistonRuntime } from '../piston/types.js';
import type { FleetEjectionReason } from './host.js';
import type { FleetSummary } from './status.js';

/** A slot on a node, held until `release()` (idempotent). */
export interface SlotLease {
  release(): void;
}

export interface SlotGate {
  /**
   * Resolves once the node has a free slot (and, with a rate limit, a free request) across the
   * fleet. Rejects with the signal's reason when the signal aborts first. Never waits on an
   * unreachable store: it then falls back to limits of its own.
   */
  acquire(node: NodeConfig, signal: AbortSignal): Promise<SlotLease>;
}

/** This process's own reason to keep a node out of rotation, as announced to the fleet. */
export interface LocalVerdict {
  reason: FleetEjectionReason;
  detail: string;
  /** Epoch ms when the verdict ends by itself (an open breaker's probe time); undefined: until withdrawn. */
  untilMs?: number;
}

export interface VerdictBoard {
  /** This process's verdict on a node changed; undefined: the node is back in rotation here. */
  announce(node: string, verdict: LocalVerdict | undefined): void;
}

export interface SharedCatalog {
  /**
   * A runtime list of `node` that some process of the fleet fetched at most `maxAgeMs` ago, or,
   * if there is none, one fetched with `fetch` (by this process or, at the same moment, by another:
   * one fetch per node for the whole fleet).
   */
  load(node: string, maxAgeMs: number, fetch: () => Promise<PistonRuntime[]>): Promise<PistonRuntime[]>;
  /** A list this process has just read (a health check): offer it to the fleet. */
  put(node: string, runtimes: PistonRuntime[]): void;
}

/** Fleet-wide figures of one node, for status output and metrics. */
export interface FleetNodeFigures {
  /** Slots held on the node by every process of the fleet, as last read. */
  slotsHeld: number;
}

export interface Fleet {
  readonly slots?: SlotGate;
  readonly verdicts?: VerdictBoard;
  readonly catalog?: SharedCatalog;
  /** Fleet-wide figures of a node, undefined when not known. */
  figures?(node: string): FleetNodeFigures | undefined;
  /** The shared store's state, for cluster_status. */
  describe?(): FleetSummary;
}
