/** Shared helpers for the simulated node's tests. */
import { Socket } from 'node:net';
import { request } from 'undici';
import { startSimNode, type SimNode, type SimNodeOptions } from '../../src/sim/index.js';

/**
 * A node for tests of the node itself (routes, validation, slots, faults): the directive model, so
 * that no answer depends on how the interpreter reads a program.
 */
export function startNode(options: SimNodeOptions = {}): Promise<SimNode> {
  return startSimNode({ model: 'directive', ...options });
}

/** A program whose outcome the `pistom-sim:` directive sets (docs/sim.md), in any model. */
export function says(outcome: Record<string, unknown>): string {
  return `# pistom-sim: ${JSON.stringify(outcome)}`;
}

/** A program that prints `stdout` and exits 0. */
export function prints(stdout: string): string {
  return says({ stdout });
}

export interface ExecuteAnswer {
  status: number;
  text: string;
  json: () => Record<string, unknown> & { run: Record<string, unknown>; compile?: Record<string, unknown>; language: string; version: string };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<ExecuteAnswer> {
  const res = await request(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: () => JSON.parse(text) };
}

export async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
}

/** POST /api/v2/execute of one file. */
export function run(baseUrl: string, language: string, content: string, extra: Record<string, unknown> = {}): Promise<ExecuteAnswer> {
  return post(`${baseUrl}/api/v2/execute`, { language, version: '*', files: [{ content }], ...extra });
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Whether the server closed or reset the connection. */
  ended(): boolean;
  close(): void;
}

/** A TCP connection to a node that records what it sends: for nodes that may never answer. Resolves once connected. */
export async function connectRaw(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = new Socket();
  let data = '';
  let ended = false;
  socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
  socket.on('close', () => (ended = true));
  socket.on('error', () => (ended = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return { socket, received: () => data, ended: () => ended, close: () => socket.destroy() };
}

/** Resolves true if `check` holds within `ms`, false if not: for asserting that something does not happen. */
export async function within(ms: number, check: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return check();
}
