/**
 * A real redis-server (Debian's, /usr/bin/redis-server; .ci/run installs it) on a free loopback
 * port, with no persistence, for the tests and benchmarks of the shared store. It can be killed
 * (SIGKILL) and started again on the same port, and frozen (SIGSTOP: a Redis that answers nothing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { hasExited, signalAndWait } from './child-process.js';

export const REDIS_SERVER = process.env.PISTOM_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';

export function redisAvailable(): boolean {
  return existsSync(REDIS_SERVER);
}

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT (with the password when one was asked for). */
  readonly url: string;
  /** SIGKILL; resolves on exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill), empty. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers. */
  freeze(): void;
  thaw(): void;
  /** Always cleans up; idempotent. */
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function launch(port: number, password?: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...(password ? ['--requirepass', password] : [])];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}:\n${output}`)), 10_000);
    const check = async () => {
      // --loglevel warning prints no "Ready" line: ask the port instead.
      for (;;) {
        if (hasExited(child)) return reject(new Error(`redis-server exited:\n${output}`));
        if (await answersPing(port)) {
          clearTimeout(timer);
          return resolve();
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    void check();
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await ready;
  return child;
}

async function answersPing(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(200);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startRedis(options: { password?: string; port?: number } = {}): Promise<RedisServer> {
  if (!redisAvailable()) throw new Error(`${REDIS_SERVER} is missing: apt-get install redis-server (.ci/run does)`);
  const port = options.port ?? (await freePort());
  let child = await launch(port, options.password);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    kill: () => signalAndWait(child, 'SIGKILL'),
    restart: async () => {
      if (!hasExited(child)) await signalAndWait(child, 'SIGKILL');
      child = await launch(port, options.password);
    },
    freeze: () => {
      if (!hasExited(child)) child.kill('SIGSTOP');
    },
    thaw: () => {
      if (!hasExited(child)) child.kill('SIGCONT');
    },
    close: async () => {
      if (hasExited(child)) return;
      child.kill('SIGCONT');
      await signalAndWait(child, 'SIGKILL');
    },
  };
}
