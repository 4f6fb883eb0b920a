/**
 * For test/bench/call-cost.ts: `count` execute calls, 16 at a time, either through pistom's router
 * in this process (no HTTP front, no MCP) or as bare undici requests to the node.
 *   node --import tsx call-loop.ts router|undici BACKEND COUNT
 */
import { Pool } from 'undici';
import { parseConfig } from '../../../src/config/load.js';
import { createPistom } from '../../../src/app.js';

const [what, backend, count] = process.argv.slice(2) as [string, string, string];
let left = Number(count);
const loop = async (call: () => Promise<unknown>) => Promise.all(Array.from({ length: 16 }, async () => {
  while (left-- > 0) await call();
}));

if (what === 'router') {
  const config = parseConfig({ nodes: [{ name: 'sim', url: backend, max_concurrent: 256 }], admission: { max_queue: 10_000 }, health: { probe_after_min_ms: 600_000, probe_after_max_ms: 600_000, interval_ms: 600_000 }, retry: { deadline_ms: 600_000 }, client: { answer_margin_ms: 600_000 }, log: { level: 'silent' } });
  const pistom = createPistom(config, { healthChecks: false });
  await loop(() => pistom.router.execute({ language: 'python', code: 'print(1)' }));
  await pistom.close();
} else {
  const pool = new Pool(backend, { connections: 64 });
  const body = JSON.stringify({ language: 'python', version: '3.11.2', files: [{ content: 'print(1)' }] });
  await loop(async () => {
    const response = await pool.request({ method: 'POST', path: '/api/v2/execute', headers: { 'content-type': 'application/json' }, body });
    JSON.parse(await response.body.text());
  });
  await pool.close();
}
