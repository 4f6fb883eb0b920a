/** Child processes that print one line on stdout once they are ready (servers, simulated nodes). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Child {
  /** The first line the process printed on stdout. */
  line: string;
  process: ChildProcess;
  /** SIGTERM, then wait for the exit. */
  close(): Promise<void>;
  /** SIGKILL: a crash, with no chance to close sockets; waits for the exit. */
  kill(): Promise<void>;
}

/** Spawns `node ...args` (this process's Node) and waits for its first stdout line; stderr is passed through. */
export async function spawnForLine(args: string[]): Promise<Child> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code, signal]) => {
      throw new Error(`node ${args.join(' ')} exited (${signal ?? code}) before printing a line`);
    }),
  ]);
  lines.close();
  child.stdout!.resume();
  return {
    line: first,
    process: child,
    close: () => signalAndWait(child, 'SIGTERM'),
    kill: () => signalAndWait(child, 'SIGKILL'),
  };
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends `signal` and resolves once the process has exited (at once if it already has). */
export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}
