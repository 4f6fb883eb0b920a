/**
 * The connection to the fleet's Redis: one client for commands, one for subscriptions (a
 * subscribed connection can do nothing else), and one judgement, `up`, that every shared part
 * reads before it uses Redis. Commands never wait for a connection (no offline queue) and never
 * take longer than `commandTimeout`; a failure or a timeout marks Redis down at once, and a probe
 * (PING) marks it up again when it answers. While down, the parts fall back to local state.
 *
 * The URL is a secret: it is never logged, and error texts pass through the redactor first.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { redisErrorDescriber } from './redis-errors.js';

export interface ConnectionOptions {
  url: string;
  /** Longest a command may take before it counts as a failure. */
  commandTimeoutMs: number;
  /** How often Redis is probed (and how soon a recovery is noticed). */
  probeIntervalMs?: number;
  /** Names the connections in CLIENT LIST (the process id). */
  name: string;
  logger: Logger;
}

export type ConnectionState = 'connecting' | 'up' | 'down';

const PROBE_INTERVAL_MS = 500;
/** An error this recent explains a connection that closes. */
const FRESH_ERROR_MS = 1_000;
/** Reconnect attempts back off up to this. */
const MAX_RECONNECT_DELAY_MS = 1_000;

export class SharedConnection {
  readonly client: Redis;
  readonly subscriber: Redis;
  private stateValue: ConnectionState = 'connecting';
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly probeTimer: NodeJS.Timeout;
  private readonly describeError: (error: unknown) => string;
  private readonly logger: Logger;
  private probing = false;
  private closed = false;
  /** Why Redis was last judged down (redacted), for status output. */
  lastError: string | undefined;
  /** How many times Redis went down since start. */
  outages = 0;
  /** Waits of waitUntilUp still running, settled (false) by close(). */
  private readonly pendingWaits = new Set<(up: boolean) => void>();
  /** The last error ioredis reported, whatever the state, and when. */
  private recentError: { text: string; at: number } | undefined;

  constructor(private readonly options: ConnectionOptions) {
    this.logger = options.logger;
    this.describeError = redisErrorDescriber(options.url);
    const common: RedisOptions = {
      // A command waits for nothing: with Redis away the caller falls back at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1_000, options.commandTimeoutMs * 5),
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), MAX_RECONNECT_DELAY_MS),
      // Several commands issued in one tick (a release and its announcement) leave in one write.
      enableAutoPipelining: true,
      lazyConnect: false,
    };
    this.client = new Redis(options.url, { ...common, connectionName: `pistom:${options.name}` });
    // The subscriber queues its SUBSCRIBEs until it is connected (however long Redis is away at
    // start), and ioredis subscribes again to the same channels after every reconnect.
    this.subscriber = new Redis(options.url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, connectionName: `pistom-sub:${options.name}` });
    for (const redis of [this.client, this.subscriber]) {
      // ioredis emits 'error' for every failed reconnect: judged by the probe, logged once per outage.
      redis.on('error', (error: Error) => this.noteError(error));
    }
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.channels.get(channel) ?? []) handler(message);
    });
    this.client.on('ready', () => void this.probe());
    // A refused AUTH or connect arrives as an error just before the close: that is the reason to show.
    this.client.on('close', () => this.markDown(this.freshError() ?? 'the connection to Redis closed'));
    this.probeTimer = setInterval(() => void this.probe(), options.probeIntervalMs ?? PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Redis answered its last probe and no command has failed since. */
  get up(): boolean {
    return this.stateValue === 'up';
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens on a channel (kept across reconnects); returns the unsubscribe. */
  subscribe(channel: string, handler: (message: string) => void): () => void {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      this.subscriber.subscribe(channel).catch((error: unknown) => this.noteError(error));
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.channels.get(channel) === handlers) {
        this.channels.delete(channel);
        if (!this.closed) this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  /** Resolves once Redis is up, or false after `timeoutMs` or when the connection is closed. */
  async waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.up) return true;
    if (this.closed) return false;
    return new Promise<boolean>((resolve) => {
      const settle = (up: boolean) => {
        clearTimeout(timer);
        off();
        this.pendingWaits.delete(settle);
        resolve(up);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      const off = this.onStateChange((state) => {
        if (state === 'up') settle(true);
      });
      this.pendingWaits.add(settle);
    });
  }

  /** A command failed or timed out: fall back until the probe says Redis answers again. */
  failed(error: unknown): void {
    this.noteError(error);
    this.markDown(this.describe(error));
  }

  /** An error's text without any part of the URL, with what to change when Redis's text does not say. */
  describe(error: unknown): string {
    return this.describeError(error);
  }

  private freshError(): string | undefined {
    return this.recentError && Date.now() - this.recentError.at < FRESH_ERROR_MS ? this.recentError.text : undefined;
  }

  private noteError(error: unknown): void {
    const text = this.describe(error);
    this.recentError = { text, at: Date.now() };
    if (this.stateValue === 'down' && this.lastError) return;
    this.lastError = text;
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      if (this.client.status !== 'ready') {
        this.markDown(this.lastError ?? `not connected to Redis (${this.client.status})`);
        return;
      }
      await this.client.ping();
      this.setState('up');
    } catch (error) {
      this.failed(error);
    } finally {
      this.probing = false;
    }
  }

  private markDown(why: string): void {
    if (this.closed) return;
    this.lastError = why;
    this.setState('down');
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    const before = this.stateValue;
    this.stateValue = state;
    if (state === 'down') {
      this.outages++;
      this.logger.warn({ shared: 'local', why: this.lastError, was: before }, 'Redis is unreachable: serving with local limits (per process) until it answers again');
    } else if (state === 'up') {
      this.logger.info({ shared: 'redis', was: before }, before === 'connecting' ? 'connected to Redis: limits, ejections, runtime lists and tasks are shared by the fleet' : 'Redis answers again: back to fleet-wide limits');
    }
    for (const listener of this.listeners) listener(state);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    for (const settle of [...this.pendingWaits]) settle(false);
    this.listeners.clear();
    this.channels.clear();
    await Promise.all(
      [this.client, this.subscriber].map(async (redis) => {
        try {
          if (redis.status === 'ready') await redis.quit();
          else redis.disconnect();
        } catch {
          redis.disconnect();
        }
      }),
    );
  }
}
