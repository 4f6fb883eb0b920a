/** Child processes for benchmarks: simulated nodes (the built CLI's `pistom sim`) and servers under test. */
import { fileURLToPath } from 'node:url';
import { spawnForLine } from '../../helpers/child-process.js';
import { spawnSim, type SimProcess } from '../../helpers/sim-process.js';

export { CLI } from '../../helpers/pistom.js';
export { spawnForLine, type Child } from '../../helpers/child-process.js';

/** `count` simulated nodes in one `pistom sim` process (see test/helpers/sim-process.ts: freeze, thaw, kill, close). */
export function startSims(count: number, flags: string[] = []): Promise<SimProcess> {
  return spawnSim({ count, flags });
}

export async function startTarget(mode: string, backend: string): Promise<{ url: string; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('./target-server.ts', import.meta.url));
  const child = await spawnForLine(['--import', 'tsx', script, '--mode', mode, '--backend', backend]);
  return { url: child.line.trim(), close: child.close };
}
