/** Child processes for benchmarks: simulated nodes (the built CLI's `pistom sim`) and servers under test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

export interface Child {
  line: string;
  process: ChildProcess;
  close(): Promise<void>;
  /** SIGKILL: a crash, with no chance to close sockets. */
  kill(): Promise<void>;
}

/** Spawns a process and waits for its first stdout line. */
export async function spawnForLine(args: string[]): Promise<Child> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${args.join(' ')} exited with ${code}`);
    }),
  ]);
  lines.close();
  child.stdout!.resume();
  return {
    line: first,
    process: child,
    close: () => stop(child, 'SIGTERM'),
    kill: () => stop(child, 'SIGKILL'),
  };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export async function startSims(count: number, flags: string[] = []): Promise<{ nodes: Array<{ name: string; url: string }>; close(): Promise<void>; kill(): Promise<void> }> {
  const child = await spawnForLine([CLI, 'sim', '--count', String(count), '--json', ...flags]);
  const parsed = JSON.parse(child.line) as { nodes: Array<{ name: string; url: string }> };
  return { nodes: parsed.nodes, close: child.close, kill: child.kill };
}

export async function startTarget(mode: string, backend: string): Promise<{ url: string; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('./target-server.ts', import.meta.url));
  const child = await spawnForLine(['--import', 'tsx', script, '--mode', mode, '--backend', backend]);
  return { url: child.line.trim(), close: child.close };
}
