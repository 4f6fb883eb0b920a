/** Runs test/bench/support/sim-server.ts as a child process and hands back the node URLs. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface SimProcess {
  urls: string[];
  close(): Promise<void>;
}

export async function startSimProcess(args: { nodes: number; latencyMs: number; slots: number; latencyStepMs?: number; canned?: boolean; timeScale?: number }): Promise<SimProcess> {
  const script = fileURLToPath(new URL('./sim-server.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, '--nodes', String(args.nodes), '--latency', String(args.latencyMs), '--slots', String(args.slots), '--latency-step', String(args.latencyStepMs ?? 0), '--time-scale', String(args.timeScale ?? 1), ...(args.canned ? ['--canned'] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => { throw new Error('sim-server exited'); })])) as [string];
  lines.close();
  return {
    urls: JSON.parse(first) as string[],
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
