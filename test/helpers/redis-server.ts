/**
 * A real redis-server (Debian's, /usr/bin/redis-server; .ci/run installs it) on a free loopback
 * port, with no persistence, for the tests and benchmarks of the shared store. It can be killed
 * (SIGKILL) and started again on the same port, and frozen (SIGSTOP: a Redis that answers nothing).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { hasExited, signalAndWait } from './child-process.js';
import { freePort } from './free-port.js';

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

export { freePort };

/** A certificate and key for 127.0.0.1 (PEM files), to serve TLS with. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Makes a self-signed certificate for 127.0.0.1 with openssl; undefined when openssl is missing. */
export function selfSignedCertificate(): TlsFiles | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'pistom-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return made.status === 0 ? { cert, key } : undefined;
}

async function launch(port: number, password?: string, tls?: TlsFiles): Promise<ChildProcess> {
  const listen = tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...(password ? ['--requirepass', password] : [])];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const until = Date.now() + 10_000;
  try {
    // --loglevel warning prints no "Ready" line: ask the port instead.
    while (!(await answersPing(port, tls !== undefined))) {
      if (hasExited(child)) throw new Error(`redis-server exited:\n${output}`);
      if (Date.now() > until) throw new Error(`redis-server did not start on port ${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (error) {
    // A server that never answered is not left running (nor polled) after the failure.
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

async function answersPing(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect(port, '127.0.0.1');
    socket.setTimeout(200);
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
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

export async function startRedis(options: { password?: string; port?: number; tls?: TlsFiles } = {}): Promise<RedisServer> {
  if (!redisAvailable()) throw new Error(`${REDIS_SERVER} is missing: apt-get install redis-server (.ci/run does)`);
  const port = options.port ?? (await freePort());
  let child = await launch(port, options.password, options.tls);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    kill: () => signalAndWait(child, 'SIGKILL'),
    restart: async () => {
      if (!hasExited(child)) await signalAndWait(child, 'SIGKILL');
      child = await launch(port, options.password, options.tls);
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
