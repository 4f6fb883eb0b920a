/**
 * Simulated Piston nodes in their own process: the built CLI's `pistom sim --json`, so that a test
 * or benchmark can freeze them for real (SIGSTOP: the kernel still completes connects into the
 * listen backlog, nothing answers) and crash them (SIGKILL). `npm test` builds dist first.
 */
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasExited, signalAndWait, spawnForLine } from './child-process.js';
import { CLI } from './pistom.js';

export interface SimProcessNode {
  name: string;
  /** Where the node listens; its admin API is at `${url}/__sim/`. */
  url: string;
  /** The URL to configure a router with (differs from `url` with --base-path). */
  apiUrl: string;
}

export interface SimProcess {
  nodes: SimProcessNode[];
  /** Every node's `url`, in order. */
  urls: string[];
  /** The first node's `url`. */
  url: string;
  pid: number;
  process: ChildProcess;
  /** SIGSTOP; resolves once the process is stopped (checked in /proc where there is one). */
  freeze(): Promise<void>;
  /** SIGCONT. */
  thaw(): void;
  /** SIGKILL (a crash: connections drop, nothing is closed cleanly); resolves on exit. */
  kill(): Promise<void>;
  /** Always cleans up: thaws, SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves on exit. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

export interface SimProcessOptions {
  /** Nodes in the process (`--count`), default 1. */
  count?: number;
  /** More `pistom sim` flags, e.g. ['--time-scale', '0', '--base-path', '/api/v2/piston']. */
  flags?: string[];
}

/** Starts `pistom sim --json` and returns once its nodes listen. */
export async function spawnSim(options: SimProcessOptions = {}): Promise<SimProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const child = await spawnForLine([CLI, 'sim', '--count', String(options.count ?? 1), '--json', ...(options.flags ?? [])]);
  const proc = child.process;
  let nodes: SimProcessNode[];
  try {
    nodes = (JSON.parse(child.line) as { nodes: SimProcessNode[] }).nodes;
  } catch (error) {
    await child.kill();
    throw new Error(`pistom sim printed "${child.line}" instead of its nodes: ${(error as Error).message}`, { cause: error });
  }
  const thaw = (): void => {
    if (!hasExited(proc)) proc.kill('SIGCONT');
  };
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    url: nodes[0]!.url,
    pid: proc.pid!,
    process: proc,
    freeze: async () => {
      if (hasExited(proc)) throw new Error('cannot freeze: the sim process has exited');
      proc.kill('SIGSTOP');
      await untilStopped(proc.pid!);
    },
    thaw,
    kill: () => signalAndWait(proc, 'SIGKILL'),
    close: async (graceMs = 5000) => {
      if (hasExited(proc)) return;
      const exited = once(proc, 'exit');
      thaw();
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until /proc says the process is stopped (state T); returns at once where there is no /proc. */
async function untilStopped(pid: number, timeoutMs = 5000): Promise<void> {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // the state follows the command name, which is in parentheses and may hold spaces
    const stat = readFileSync(file, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't') return;
    await sleep(2);
  }
  throw new Error(`process ${pid} did not stop within ${timeoutMs} ms of SIGSTOP`);
}
