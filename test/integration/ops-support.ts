/**
 * Support for the operations tests: the built CLI as a child process over HTTP or stdio (with our
 * own handle on the child, to send signals and read its exit code), Prometheus text parsing, and
 * waiting for a condition without betting on how long it takes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, ReadBuffer, serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import { CLI, type ToolResult } from '../helpers/pistom.js';

/** A secret fed into every config: it must never come out of pistom. */
export const SECRET = 'SECRET-node-header-7f3a9c1e';
export const TOKEN = 'bearer-token-0123456789abcdef-SECRET';

export const FAST_CAPS = { run_timeout: 30_000, compile_timeout: 1000, run_cpu_time: 30_000, compile_cpu_time: 1000 };
export { HELLO } from '../helpers/programs.js';

/** A program the simulated node runs for `ms` (see docs/sim.md: the pistom-sim directive). */
export function slowProgram(ms: number): { language: string; code: string } {
  return { language: 'python', code: `# pistom-sim: {"wall_ms": ${ms}, "stdout": "done\\n"}\nprint("done")` };
}

export interface Child {
  readonly process: ChildProcess;
  stderr(): string;
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** Kills the child if it still runs (test cleanup). */
  close(): Promise<void>;
}

function track(child: ChildProcess): Child {
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    stderr: () => errors,
    exited,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const ENV = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'info', ...env });

export interface HttpChild extends Child {
  url: string;
}

/** `pistom serve --http 127.0.0.1:0 ...`, resolved once it listens. */
export async function serveHttp(args: string[], env: Record<string, string> = {}): Promise<HttpChild> {
  const child = track(spawn(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0', ...args], { env: ENV(env), stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    const match = await waitFor(() => /pistom listening on (http:\/\/\S+)\/mcp/.exec(child.stderr()), 'pistom to listen', child);
    return { ...child, url: match[1]! };
  } catch (error) {
    await child.close();
    throw error;
  }
}

export interface StdioChild extends Child {
  client: Client;
  call(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  /** Ends the child's stdin, as a client that goes away does. */
  endInput(): void;
}

/** A client transport on a child we spawned ourselves (the SDK's own hides the child). */
class ChildTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();

  constructor(private readonly child: ChildProcess) {}

  async start(): Promise<void> {
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (let message = this.buffer.readMessage(); message; message = this.buffer.readMessage()) this.onmessage?.(message);
    });
    this.child.once('exit', () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.child.stdin!.writable) this.child.stdin!.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
  }
}

/** `pistom serve` over stdio, with the SDK's Client on our own pipes. */
export async function serveStdio(args: string[], env: Record<string, string> = {}): Promise<StdioChild> {
  const child = track(spawn(process.execPath, [CLI, 'serve', ...args], { env: ENV(env), stdio: ['pipe', 'pipe', 'pipe'] }));
  const client = new Client({ name: 'pistom-ops-test', version: '0.0.0' });
  try {
    await client.connect(new ChildTransport(child.process));
  } catch (error) {
    await child.close();
    throw new Error(`${(error as Error).message}\n${child.stderr()}`, { cause: error });
  }
  return {
    ...child,
    client,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as ToolResult,
    endInput: () => child.process.stdin!.end(),
  };
}

/**
 * Polls `probe` until it returns something truthy. The limit only keeps a broken build from
 * hanging the suite; the tests assert what happens, never how fast.
 */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, child?: Child, limitMs = 30_000): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${child ? `\n--- stderr ---\n${child.stderr()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One scrape, parsed: series keyed by name, with their labels. */
export interface Scrape {
  text: string;
  /** Sum of the series of `name` whose labels include `labels`. */
  value(name: string, labels?: Record<string, string>): number;
  /** The label sets of `name`'s series. */
  series(name: string): Array<Record<string, string>>;
}

export function parseMetrics(text: string): Scrape {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  const matching = (name: string, labels: Record<string, string>) => samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    text,
    value: (name, labels = {}) => matching(name, labels).reduce((sum, s) => sum + s.value, 0),
    series: (name) => matching(name, {}).map((s) => s.labels),
  };
}

export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { headers });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  expectPrometheusType(response.headers.get('content-type') ?? '');
  return parseMetrics(await response.text());
}

function expectPrometheusType(type: string): void {
  if (!type.startsWith('text/plain')) throw new Error(`GET /metrics answered content-type ${type}`);
}

export async function getStatus(url: string): Promise<{ status: number; body: { status?: string } }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as { status?: string } };
}

/** The pistom/error metadata of a failed tool result. */
export function errorOf(result: ToolResult): { class: string; code: string; message: string } | undefined {
  return result._meta?.['pistom/error'] as { class: string; code: string; message: string } | undefined;
}
