/**
 * Calls/s one pistom process sustains over Streamable HTTP against a zero-latency simulated node,
 * side by side in one run with the MCP SDK's stateless example pattern (a new server and transport
 * per request) and a bare node:http JSON-RPC echo. Each server runs in its own process; the load
 * comes from this one (raw JSON-RPC over a pooled undici client, so the client costs little).
 *   npm run bench -- http-throughput [--seconds 5] [--concurrency 32]
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startSims, startTarget } from './support/processes.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '32' }, warmup: { type: 'string', default: '1' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);

const CALL = (id: number) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute', arguments: { language: 'python', code: 'print(1)' } } });

async function drive(url: string, durationS: number): Promise<{ calls: number; errors: number; perSecond: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
  let calls = 0;
  let errors = 0;
  let id = 0;
  const deadline = performance.now() + durationS * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const response = await pool.request({
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
        body: CALL(++id),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200 || text.includes('"isError":true') || !text.includes('"result"')) errors++;
      calls++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { calls, errors, perSecond: calls / elapsed };
}

const sims = await startSims(1, ['--slots', '1024', '--time-scale', '0']);
const backend = sims.nodes[0]!.url;
const results: Record<string, { calls: number; errors: number; perSecond: number }> = {};
try {
  for (const mode of ['echo', 'naive', 'pistom'] as const) {
    const target = await startTarget(mode, backend);
    try {
      await drive(target.url, warmup);
      results[mode] = await drive(target.url, seconds);
    } finally {
      await target.close();
    }
  }
} finally {
  await sims.close();
}
const naive = results.naive!.perSecond;
console.log(`\nHTTP throughput, ${concurrency} concurrent callers, ${seconds} s each, zero-latency simulated node (calls/s)`);
console.log('| server | calls/s | errors | vs SDK stateless pattern |');
console.log('|---|---:|---:|---:|');
for (const [mode, label] of [['echo', 'bare node:http JSON-RPC echo (no MCP, no node call)'], ['naive', 'SDK stateless example (server + transport per request)'], ['pistom', 'pistom stateless (one server, multiplexed)']] as const) {
  const r = results[mode]!;
  console.log(`| ${label} | ${Math.round(r.perSecond)} | ${r.errors} | ${(r.perSecond / naive).toFixed(2)}x |`);
}
