/**
 * Calls/s one process sustains over stateless Streamable HTTP against a zero-latency simulated
 * node, side by side in one run, in each protocol era:
 *   pistom   one long-lived server per era behind a multiplexing transport
 *   sdk-v2   the v2 SDK's own handler (createMcpHandler: a server per request, same tools)
 *   naive    the v1 SDK's stateless example pattern (server + transport per request; 2025 only)
 *   echo     a bare node:http JSON-RPC echo (no MCP, no node call): the ceiling of node:http
 * Each server runs in its own process; the load comes from this one (raw JSON-RPC over a pooled
 * undici client, so the client costs little). Rounds are interleaved; min/median/max reported.
 *   npm run bench -- http-throughput [--seconds 3] [--concurrency 32] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startSims, startTarget } from './support/processes.js';
import { median } from './support/stats.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '32' }, warmup: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);

type Era = 'modern' | 'legacy';
const ARGS = { language: 'python', code: 'print(1)' };
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };

function request(era: Era, id: number): { headers: Record<string, string>; body: string } {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (era === 'modern') {
    return {
      headers: { ...base, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'execute' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute', arguments: ARGS, _meta: META } }),
    };
  }
  return { headers: { ...base, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute', arguments: ARGS } }) };
}

async function drive(url: string, era: Era, durationS: number): Promise<{ calls: number; errors: number; perSecond: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
  let calls = 0;
  let errors = 0;
  let id = 0;
  const deadline = performance.now() + durationS * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const { headers, body } = request(era, ++id);
      const response = await pool.request({ method: 'POST', path: target.pathname, headers, body });
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

const RUNS: Array<{ key: string; mode: string; era: Era; label: string }> = [
  { key: 'echo', mode: 'echo', era: 'legacy', label: 'bare node:http JSON-RPC echo (no MCP, no node call)' },
  { key: 'naive', mode: 'naive', era: 'legacy', label: 'v1 SDK stateless example (server + transport per request), 2025' },
  { key: 'sdk-v2-legacy', mode: 'sdk-v2', era: 'legacy', label: 'v2 SDK createMcpHandler, 2025 era' },
  { key: 'sdk-v2-modern', mode: 'sdk-v2', era: 'modern', label: 'v2 SDK createMcpHandler, 2026-07-28 era' },
  { key: 'pistom-legacy', mode: 'pistom', era: 'legacy', label: 'pistom stateless, 2025 era' },
  { key: 'pistom-modern', mode: 'pistom', era: 'modern', label: 'pistom stateless, 2026-07-28 era' },
];

const sims = await startSims(1, ['--slots', '1024', '--time-scale', '0']);
const backend = sims.nodes[0]!.url;
const samples: Record<string, number[]> = {};
const errors: Record<string, number> = {};
try {
  for (let round = 0; round < rounds; round++) {
    for (const run of RUNS) {
      const target = await startTarget(run.mode, backend);
      try {
        await drive(target.url, run.era, warmup);
        const result = await drive(target.url, run.era, seconds);
        (samples[run.key] ??= []).push(result.perSecond);
        errors[run.key] = (errors[run.key] ?? 0) + result.errors;
      } finally {
        await target.close();
      }
    }
  }
} finally {
  await sims.close();
}

const m = (key: string) => median(samples[key]!);
console.log(`\nHTTP throughput, ${concurrency} concurrent callers, ${seconds} s per run, ${rounds} interleaved rounds, zero-latency simulated node (calls/s)`);
console.log('| server | median | min | max | errors |');
console.log('|---|---:|---:|---:|---:|');
for (const run of RUNS) {
  const xs = samples[run.key]!;
  console.log(`| ${run.label} | ${Math.round(m(run.key))} | ${Math.round(Math.min(...xs))} | ${Math.round(Math.max(...xs))} | ${errors[run.key]} |`);
}
console.log('\n| ratio (medians) | 2025 era | 2026-07-28 era | goal |');
console.log('|---|---:|---:|---|');
console.log(`| pistom / v1 SDK stateless pattern | ${(m('pistom-legacy') / m('naive')).toFixed(2)}x | ${(m('pistom-modern') / m('naive')).toFixed(2)}x | >= 6x |`);
console.log(`| pistom / v2 SDK createMcpHandler | ${(m('pistom-legacy') / m('sdk-v2-legacy')).toFixed(2)}x | ${(m('pistom-modern') / m('sdk-v2-modern')).toFixed(2)}x | >= 1x |`);
console.log(`| pistom / bare node:http echo | ${((100 * m('pistom-legacy')) / m('echo')).toFixed(0)}% | ${((100 * m('pistom-modern')) / m('echo')).toFixed(0)}% | >= 30% |`);
