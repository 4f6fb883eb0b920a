/** Runs test/bench/support/sim-server.ts as a child process and hands back the node URLs. */
import { fileURLToPath } from 'node:url';
import { spawnForLine } from '../../helpers/child-process.js';

export interface SimProcess {
  urls: string[];
  close(): Promise<void>;
}

export async function startSimProcess(args: { nodes: number; latencyMs: number; slots: number; latencyStepMs?: number; canned?: boolean; timeScale?: number }): Promise<SimProcess> {
  const script = fileURLToPath(new URL('./sim-server.ts', import.meta.url));
  const child = await spawnForLine([
    '--import', 'tsx', script,
    '--nodes', String(args.nodes), '--latency', String(args.latencyMs), '--slots', String(args.slots),
    '--latency-step', String(args.latencyStepMs ?? 0), '--time-scale', String(args.timeScale ?? 1),
    ...(args.canned ? ['--canned'] : []),
  ]);
  return { urls: JSON.parse(child.line) as string[], close: child.close };
}
