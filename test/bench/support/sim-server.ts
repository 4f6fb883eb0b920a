/**
 * Starts simulated Piston nodes in their own process (so they do not share the bench's event
 * loop) and prints their URLs as one JSON line. Stops on SIGTERM or SIGINT.
 *   npx tsx test/bench/support/sim-server.ts --nodes 3 --latency 20 --latency-step 10 --slots 4 [--base-port 21001]
 * Node i (from 0) takes latency + i × latency-step ms per job, on base-port + i (or any free port).
 * --canned: instead of the simulator, a bare server answering every execute with one canned
 * Piston result at once: a node that costs nearly nothing, to measure the bench itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { startSimNode } from '../../integration/support/bench-sim.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1' },
    latency: { type: 'string', default: '0' },
    'latency-step': { type: 'string', default: '0' },
    slots: { type: 'string', default: '64' },
    canned: { type: 'boolean', default: false },
    'time-scale': { type: 'string', default: '1' },
    'base-port': { type: 'string' },
  },
});
const count = Number(values.nodes);
const nodes: { url: string; close(): Promise<void> }[] = [];
for (let i = 0; i < count; i++) {
  const port = values['base-port'] ? Number(values['base-port']) + i : 0;
  if (values.canned) {
    nodes.push(await startCannedNode(port));
    continue;
  }
  nodes.push(
    await startSimNode({
      name: `sim-${i + 1}`,
      latencyMs: Number(values.latency) + i * Number(values['latency-step']),
      slots: Number(values.slots),
      timeScale: Number(values['time-scale']),
      ...(values['base-port'] ? { port: Number(values['base-port']) + i } : {}),
    }),
  );
}
console.log(JSON.stringify(nodes.map((n) => n.url)));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.all(nodes.map((n) => n.close()));
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

async function startCannedNode(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const stage = { stdout: 'hi\n', stderr: '', output: 'hi\n', code: 0, signal: null, message: null, status: null, cpu_time: 0, wall_time: 0, memory: 0 };
  const runtimes = JSON.stringify([{ language: 'python', version: '3.11.2', aliases: ['py'] }]);
  const result = JSON.stringify({ language: 'python', version: '3.11.2', run: stage });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'GET' ? runtimes : result));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
