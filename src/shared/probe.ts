/**
 * One look at the fleet's Redis, for `pistom check`: connect, PING, read the server's version.
 * Nothing is retried and nothing stays open; an error's text comes back with every part of the URL
 * removed (the URL is a secret).
 */
import { Redis } from 'ioredis';
import { redisErrorDescriber } from './redis-errors.js';

export interface SharedStoreProbe {
  ok: boolean;
  /** The server's `redis_version` (INFO server), when it answered. */
  version: string | null;
  /** Round trip of the PING, ms. */
  latency_ms: number | null;
  error: string | null;
}

export async function probeRedis(url: string, timeoutMs: number): Promise<SharedStoreProbe> {
  const describe = redisErrorDescriber(url);
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName: 'pistom-check',
    // Nothing to flush when the probe ends: do not hold the process for ioredis's default 2 s.
    disconnectTimeout: 0,
  });
  // The root cause (WRONGPASS, ECONNREFUSED) arrives as an event; the promise only says the
  // connection closed.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => {
    cause ??= error;
  });
  let timer: NodeJS.Timeout | undefined;
  // A TLS handshake or an AUTH that never answers is bounded too, not only the TCP connect.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([look(redis), deadline]);
  } catch (error) {
    return { ok: false, version: null, latency_ms: null, error: describe(cause ?? error) };
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

async function look(redis: Redis): Promise<SharedStoreProbe> {
  await redis.connect();
  const started = performance.now();
  await redis.ping();
  const latency = Math.round((performance.now() - started) * 10) / 10;
  const info = await redis.info('server');
  const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? null;
  return { ok: true, version, latency_ms: latency, error: null };
}
