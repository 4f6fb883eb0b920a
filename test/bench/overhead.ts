/**
 * The time pistom adds to one execute call: the same program sent straight to a simulated node
 * (undici, POST /api/v2/execute) and through pistom (the built CLI) over Streamable HTTP and over
 * stdio with the SDK's real Client; one call at a time, interleaved in rounds so that machine
 * noise hits all three alike.
 *   npm run bench -- overhead [--calls 1000]
 */
import { parseArgs } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Pool } from 'undici';
import { startSims, CLI } from './support/processes.js';
import { startHttpPistom } from '../helpers/pistom.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '100' } } });
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const PROGRAM = { language: 'python', version: '3.11.2', files: [{ content: 'print(1)' }] };
const TOOL_ARGS = { language: 'python', code: 'print(1)' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sims = await startSims(1, ['--time-scale', '0']);
const backend = sims.nodes[0]!.url;
const pistomHttp = await startHttpPistom(['--backend', backend], { PISTOM_LOG_LEVEL: 'silent' });
const httpClient = new Client({ name: 'overhead-bench', version: '1' });
await httpClient.connect(new StreamableHTTPClientTransport(new URL(`${pistomHttp.url}/mcp`)));
const stdioClient = new Client({ name: 'overhead-bench', version: '1' });
await stdioClient.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--backend', backend], env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'silent' } }));
const pool = new Pool(new URL(backend).origin, { connections: 4 });
const pistomPool = new Pool(new URL(pistomHttp.url).origin, { connections: 4 });
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'overhead-bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
let rawId = 0;

const paths = {
  direct: async () => {
    const response = await pool.request({ method: 'POST', path: '/api/v2/execute', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PROGRAM) });
    await response.body.json();
    if (response.statusCode !== 200) throw new Error(`direct call failed: ${response.statusCode}`);
  },
  raw: async () => {
    const response = await pistomPool.request({
      method: 'POST',
      path: '/mcp',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'execute' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++rawId, method: 'tools/call', params: { name: 'execute', arguments: TOOL_ARGS, _meta: META } }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200 || !text.includes('"result"')) throw new Error(`raw call failed: ${response.statusCode} ${text.slice(0, 200)}`);
  },
  http: async () => {
    const result = await httpClient.callTool({ name: 'execute', arguments: TOOL_ARGS });
    if (result.isError) throw new Error(JSON.stringify(result.content));
  },
  stdio: async () => {
    const result = await stdioClient.callTool({ name: 'execute', arguments: TOOL_ARGS });
    if (result.isError) throw new Error(JSON.stringify(result.content));
  },
};
const samples: Record<keyof typeof paths, number[]> = { direct: [], raw: [], http: [], stdio: [] };
try {
  for (let round = 0; round < warmup + calls; round++) {
    for (const name of Object.keys(paths) as Array<keyof typeof paths>) {
      const started = performance.now();
      await paths[name]();
      if (round >= warmup) samples[name].push(performance.now() - started);
    }
  }
} finally {
  await httpClient.close();
  await stdioClient.close();
  await pool.close();
  await pistomPool.close();
  await pistomHttp.stop();
  await sims.close();
}
const stats = Object.fromEntries(Object.entries(samples).map(([name, list]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return [name, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
})) as Record<keyof typeof paths, { p50: number; p99: number }>;
const ms = (value: number) => value.toFixed(2);
console.log(`\nexecute latency, ${calls} sequential calls per path (after ${warmup} warm-up), zero-latency simulated node`);
console.log('| path | p50 ms | p99 ms | added p50 ms | added p99 ms |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| straight to the node (undici) | ${ms(stats.direct.p50)} | ${ms(stats.direct.p99)} | - | - |`);
console.log(`| through pistom, Streamable HTTP, 2026-07-28 (raw JSON-RPC over undici) | ${ms(stats.raw.p50)} | ${ms(stats.raw.p99)} | ${ms(stats.raw.p50 - stats.direct.p50)} | ${ms(stats.raw.p99 - stats.direct.p99)} |`);
console.log(`| through pistom, Streamable HTTP (SDK v2 Client, 2025 era) | ${ms(stats.http.p50)} | ${ms(stats.http.p99)} | ${ms(stats.http.p50 - stats.direct.p50)} | ${ms(stats.http.p99 - stats.direct.p99)} |`);
console.log(`| through pistom, stdio (SDK v2 Client, 2025 era) | ${ms(stats.stdio.p50)} | ${ms(stats.stdio.p99)} | ${ms(stats.stdio.p50 - stats.direct.p50)} | ${ms(stats.stdio.p99 - stats.direct.p99)} |`);
