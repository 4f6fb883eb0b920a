/**
 * Client connections of the HTTP front, bounded: at most `maxConnections` at once and
 * `maxPerAddress` from one remote address; a connection with no request in flight is closed after
 * `idleTimeoutMs` without a byte (one that never sends a request included), and so is one whose
 * client leaves an answer unread that long. When a bound is
 * reached, the connection idle the longest (of that address, for the per-address bound) makes room
 * for the new one, so a flood of silent connections cannot lock out a client that sends requests;
 * when none is idle, the new connection gets a 503 and is closed.
 *
 * The global bound keeps file descriptors for pistom's own work: by default it is what the
 * process's descriptor limit leaves after the node connection pools and a reserve (fdBudget), and a
 * configured value is held to that too.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { normalizedAddress } from '../../util/http.js';

export interface ConnectionLimits {
  maxConnections: number;
  maxPerAddress: number;
  idleTimeoutMs: number;
}

/** Descriptors kept back from clients besides the node pools: listeners, logs, DNS, health checks, stdio. */
export const FD_RESERVE = 128;

/** The soft limit on open files, where the OS tells it (Linux: /proc/self/limits); undefined elsewhere. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const value = Number(soft);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface FdBudget {
  /** Client connections allowed. */
  maxConnections: number;
  /** Why, in words, for the start-up log. */
  reason: string;
  /** Set when a configured value had to be lowered. */
  lowered?: number;
}

/**
 * How many client connections the process can hold and still open every node connection
 * (`nodeConnections`: nodes x client.connections) plus FD_RESERVE. Without a known limit, 1024 is
 * assumed (the usual default soft limit).
 */
export function fdBudget(configured: number | undefined, nodeConnections: number, fileLimit: number | undefined): FdBudget {
  const limit = fileLimit ?? 1024;
  const room = Math.max(16, limit - nodeConnections - FD_RESERVE);
  const reason = `file descriptor limit ${fileLimit ?? '1024 (assumed)'} - ${nodeConnections} for node connections - ${FD_RESERVE} reserved`;
  if (configured === undefined) return { maxConnections: Math.min(room, 4096), reason };
  if (configured <= room) return { maxConnections: configured, reason: 'http.max_connections' };
  return { maxConnections: room, reason, lowered: configured };
}

const REFUSAL_BODY = (why: string) => JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: `Service Unavailable: ${why}; retry shortly` } });

interface ConnectionState {
  address: string;
  active: number;
}

export class ConnectionGate {
  private readonly states = new Map<Socket, ConnectionState>();
  /** Connections with no request in flight, the longest idle first (Set keeps insertion order). */
  private readonly idle = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private refusedCount = 0;
  private evictedCount = 0;
  private stalledCount = 0;

  constructor(
    private readonly server: Server,
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
  ) {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.busy(req.socket, res));
    // With a listener here Node leaves the decision to close a timed-out socket to us: idle ones
    // go, and so do busy ones whose client stopped reading an answer (bytes waiting to be written);
    // a long call with nothing to send yet stays.
    server.on('timeout', (socket: Socket) => {
      const state = this.states.get(socket);
      if (!state || state.active === 0) return socket.destroy();
      if (socket.writableLength > 0) {
        this.stalledCount++;
        this.logger.warn({ unread_bytes: socket.writableLength, idle_ms: this.limits.idleTimeoutMs }, 'closing a connection whose client stopped reading its answer');
        socket.destroy();
      }
    });
  }

  get size(): number {
    return this.states.size;
  }

  /** Connections refused, idle ones closed to make room, and ones closed because their client stopped reading, since start. */
  get counts(): { refused: number; evicted: number; stalled: number } {
    return { refused: this.refusedCount, evicted: this.evictedCount, stalled: this.stalledCount };
  }

  private admit(socket: Socket): void {
    const address = normalizedAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxPerAddress && !this.evictIdle(address)) {
      return this.refuse(socket, `this address already holds ${fromAddress} connections, all busy (http.max_connections_per_address)`);
    }
    if (this.states.size >= this.limits.maxConnections && !this.evictIdle()) {
      return this.refuse(socket, `pistom holds ${this.states.size} connections, all busy (http.max_connections)`);
    }
    this.states.set(socket, { address, active: 0 });
    this.idle.add(socket);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    socket.setTimeout(this.limits.idleTimeoutMs);
    const state = this.states.get(socket)!;
    socket.once('close', () => this.forget(socket, state));
  }

  private busy(socket: Socket, res: ServerResponse): void {
    const state = this.states.get(socket);
    if (!state) return;
    state.active++;
    this.idle.delete(socket);
    // Node clears the socket's timer when a kept-alive connection starts a request: the stall check needs it.
    socket.setTimeout(this.limits.idleTimeoutMs);
    // After the response Node's keep-alive timer (shorter) takes over from the idle timer.
    res.once('close', () => {
      if (--state.active === 0 && !socket.destroyed) this.idle.add(socket);
    });
  }

  /** Closes the connection idle the longest (of `address`, when given); false when there is none. */
  private evictIdle(address?: string): boolean {
    for (const socket of this.idle) {
      const state = this.states.get(socket)!;
      if (address !== undefined && state.address !== address) continue;
      this.forget(socket, state);
      socket.destroy();
      this.evictedCount++;
      return true;
    }
    return false;
  }

  private forget(socket: Socket, state: ConnectionState): void {
    if (!this.states.delete(socket)) return;
    this.idle.delete(socket);
    const left = (this.perAddress.get(state.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(state.address, left);
    else this.perAddress.delete(state.address);
  }

  /** A 503 written straight to the socket (nothing of the request is read), then closed. */
  private refuse(socket: Socket, why: string): void {
    this.refusedCount++;
    if (this.refusedCount === 1 || this.refusedCount % 1000 === 0) this.logger.warn({ refused: this.refusedCount, reason: why }, 'connection refused');
    socket.pause();
    const body = REFUSAL_BODY(why);
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Closes every connection now (after a graceful close had its chance). */
  destroyAll(): void {
    for (const socket of this.states.keys()) socket.destroy();
  }
}
