/**
 * What one `tools/call execute` costs, in machine instructions counted by valgrind (callgrind):
 * the same on any machine load, so it shows where a call's work goes when the throughput goals of
 * http-throughput are read against each other. Per call, after a warm-up, all threads included:
 *   echo            the bare node:http JSON-RPC echo of http-throughput (no MCP, no node call)
 *   pistom          pistom's stateless HTTP, each era (fast path on, and off: the SDK's own path)
 *   naive           the v1 SDK's server-per-request pattern (it calls the same router)
 *   router          router.execute in a loop, in process (no HTTP front, no MCP)
 *   undici          a bare undici POST /api/v2/execute in a loop (the node call alone)
 * Needs valgrind (Debian's package); takes a few minutes.
 *   npm run bench -- call-cost [--calls 1000]
 */
import { spawn, spawnSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Pool } from 'undici';
import { startSims } from './support/processes.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '2000' } } });
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const run = promisify(execFile);

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'pistom-call-cost-'));
const here = fileURLToPath(new URL('.', import.meta.url));
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const ARGS = { language: 'python', code: 'print(1)' };

function request(era: 'modern' | 'legacy', id: number): { headers: Record<string, string>; body: string } {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (era === 'modern') return { headers: { ...base, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'execute' }, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute', arguments: ARGS, _meta: META } }) };
  return { headers: { ...base, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute', arguments: ARGS } }) };
}

async function drive(url: string, era: 'modern' | 'legacy', count: number): Promise<void> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 16 });
  let left = count;
  let failed = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (left-- > 0) {
      const { headers, body } = request(era, left);
      const response = await pool.request({ method: 'POST', path: target.pathname, headers, body });
      const text = await response.body.text();
      if (response.statusCode !== 200 || !text.includes('"result"')) failed++;
    }
  }));
  await pool.close();
  if (failed > 0) throw new Error(`${failed} of ${count} calls failed against ${url}`);
}

/** Instructions counted in the callgrind dumps whose names start with `prefix`. */
function counted(prefix: string): number {
  let total = 0;
  for (const file of readdirSync(dir).filter((name) => name.startsWith(prefix))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) if (line.startsWith('summary:')) total += Number(line.split(/\s+/)[1]);
  }
  return total;
}

/** A server under valgrind, counted only while `calls` calls run after the warm-up. */
async function serverCost(label: string, mode: string, era: 'modern' | 'legacy', backend: string, extra: string[] = []): Promise<number> {
  const out = join(dir, `${label.replace(/\W+/g, '-')}.out`);
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, '--import', 'tsx', `${here}support/target-server.ts`, '--mode', mode, '--backend', backend, '--slow', ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`${label}: the server exited (${code})`)));
    });
    await drive(url, era, warmup);
    await run('callgrind_control', ['-i', 'on', String(child.pid)]);
    await drive(url, era, calls);
    await run('callgrind_control', ['-d', String(child.pid)]);
    return counted(`${label.replace(/\W+/g, '-')}.out.`) / calls;
  } finally {
    child.kill('SIGKILL');
  }
}

/** An in-process loop under valgrind, run twice; the difference over the extra calls is the cost of one. */
async function loopCost(what: 'router' | 'undici', backend: string): Promise<number> {
  const total = async (count: number) => {
    const out = join(dir, `${what}-${count}.out`);
    await run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--import', 'tsx', `${here}support/call-loop.ts`, what, backend, String(count)], { maxBuffer: 1 << 24 });
    return counted(`${what}-${count}.out`);
  };
  const few = await total(warmup);
  const many = await total(warmup + calls);
  return (many - few) / calls;
}

const sims = await startSims(1, ['--slots', '1024', '--time-scale', '0']);
const backend = sims.nodes[0]!.url;
const rows: Array<[string, number]> = [];
try {
  rows.push(['bare node:http JSON-RPC echo (no MCP, no node call)', await serverCost('echo', 'echo', 'legacy', backend)]);
  rows.push(['undici POST /api/v2/execute alone (the node call)', await loopCost('undici', backend)]);
  rows.push(['router.execute in process (no HTTP front, no MCP)', await loopCost('router', backend)]);
  for (const era of ['legacy', 'modern'] as const) {
    rows.push([`pistom stateless HTTP, ${era === 'modern' ? '2026-07-28' : '2025'} era`, await serverCost(`pistom-${era}`, 'pistom', era, backend)]);
    rows.push([`pistom stateless HTTP, ${era === 'modern' ? '2026-07-28' : '2025'} era, http.fast_path off (the SDK's path)`, await serverCost(`pistom-sdk-${era}`, 'pistom', era, backend, ['--fast-path', 'off'])]);
  }
  rows.push(['v1 SDK server per request (same router), 2025 era', await serverCost('naive', 'naive', 'legacy', backend)]);
} finally {
  await sims.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nInstructions per execute call (valgrind callgrind, all threads, ${calls} calls after ${warmup} warm-up, zero-latency simulated node)`);
console.log('| what runs | instructions per call |');
console.log('|---|---:|');
for (const [label, value] of rows) console.log(`| ${label} | ${Math.round(value).toLocaleString('en-US')} |`);
