/**
 * Resident memory of pistom under each hostile input of issue 11, with a well-behaved client and
 * /healthz probed beside the attack. Each attack runs against a fresh pistom (the built CLI) in
 * front of one simulated node in its own process; RSS is sampled from /proc every 50 ms (Linux).
 *   npm run bench -- attacks [--seconds 5]
 * The table goes to docs/robustness.md.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { startHttpPistom, writeConfig, CLI, type HttpPistom } from '../helpers/pistom.js';
import { startSims } from './support/processes.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
const MB = 1024 * 1024;
const TOKEN_A = 'attack-token-aaaaaaaaaaaaaaaa';
const TOKEN_B = 'friend-token-bbbbbbbbbbbbbbbb';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line!.split(/\s+/)[1]) * 1024;
}

function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Samples RSS until stopped: before (at start), peak, after (at stop). */
function sampler(pid: number) {
  const before = rssOf(pid);
  let peak = before;
  let peakFds = fdsOf(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
      peakFds = Math.max(peakFds, fdsOf(pid));
    } catch {
      // the process ended
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return { before, peak, after: rssOf(pid), peakFds };
    },
  };
}

interface RawAnswer {
  status: number;
  text: string;
}

function post(url: string, body: string, headers: Record<string, string> = {}, options: { method?: string; localAddress?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const req = request(url, { method: options.method ?? 'POST', headers: { ...HEADERS, ...headers }, agent: false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: 0, text }));
    });
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(options.method === 'GET' ? undefined : body);
  });
}

const rpc = (method: string, params: Record<string, unknown> = {}, id: number | string = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const batch = (n: number, method: string, params?: Record<string, unknown>) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method, ...(params ? { params } : {}) })));
const EXECUTE = rpc('tools/call', { name: 'execute', arguments: { language: 'python', code: 'print("ok")' } });

/** A well-behaved client and a /healthz probe, one call every `everyMs` each, until stopped (in a session of its own when the server is stateful). */
function bystander(base: string, headers: Record<string, string> = {}, everyMs = 100, stateful = false) {
  const latencies: number[] = [];
  let ok = 0;
  let tried = 0;
  let health = 0;
  let healthTried = 0;
  let running = true;
  const loop = async () => {
    if (stateful) {
      const opened = await new Promise<string | undefined>((resolve) => {
        const req = request(`${base}/mcp`, { method: 'POST', headers: { ...HEADERS, ...headers }, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['mcp-session-id'] as string | undefined));
        });
        req.on('error', () => resolve(undefined));
        req.end(rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'friend', version: '0' } }, 0));
      });
      headers = { ...headers, 'mcp-session-id': opened ?? 'none', 'mcp-protocol-version': '2025-11-25' };
    }
    while (running) {
      const started = performance.now();
      tried++;
      const answer = await post(`${base}/mcp`, EXECUTE, headers);
      if (answer.status === 200 && answer.text.includes('"stdout":"ok\\n"')) {
        ok++;
        latencies.push(performance.now() - started);
      }
      healthTried++;
      if ((await post(`${base}/healthz`, '', {}, { method: 'GET' })).status === 200) health++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
  const done = loop();
  return {
    stop: async () => {
      running = false;
      await done;
      const sorted = latencies.sort((a, b) => a - b);
      return { ok, tried, health, healthTried, p50: sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : NaN };
    },
  };
}

interface Row {
  attack: string;
  bound: string;
  before: number;
  peak: number;
  after: number;
  fds: number;
  served: string;
  health: string;
  note: string;
}

const rows: Row[] = [];
const mb = (bytes: number) => (bytes / MB).toFixed(0);

interface Bystander {
  headers?: Record<string, string>;
  everyMs?: number;
}

async function underAttack(name: string, bound: string, config: Record<string, unknown>, attack: (base: string, pistom: HttpPistom) => Promise<string>, friend: Bystander = {}): Promise<void> {
  const clientHeaders = friend.headers ?? {};
  const stateful = (config.http as { stateful?: boolean } | undefined)?.stateful === true;
  const sims = await startSims(1, ['--slots', '64', '--time-scale', '0']);
  const pistom = await startHttpPistom(['--config', writeConfig({ nodes: [{ name: 'sim', url: sims.url, max_concurrent: 16 }], log: { level: 'silent' }, health: { interval_ms: 60_000 }, ...config })]);
  try {
    // Warm up so that the figures show the attack, not the first calls' JIT and heap growth.
    if (!stateful) for (let i = 0; i < 200; i++) await post(`${pistom.url}/mcp`, EXECUTE, clientHeaders);
    const rss = sampler(pistom.process.pid!);
    const beside = bystander(pistom.url, clientHeaders, friend.everyMs, stateful);
    const note = await attack(pistom.url, pistom);
    const client = await beside.stop();
    const memory = rss.stop();
    rows.push({
      attack: name,
      bound,
      before: memory.before,
      peak: memory.peak,
      after: memory.after,
      fds: memory.peakFds,
      served: `${client.ok}/${client.tried} (p50 ${client.p50.toFixed(1)} ms)`,
      health: `${client.health}/${client.healthTried}`,
      note,
    });
    console.error(`${name}: ${note}`);
  } finally {
    await pistom.stop('SIGKILL');
    await sims.close();
  }
}

const until = () => performance.now() + seconds * 1000;

await underAttack('none (baseline)', '-', {}, async () => {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return '';
});

await underAttack('the 1 MiB batch of 20,500 tools/list, 64 at a time', 'http.max_batch = 100', {}, async (base) => {
  const body = batch(20_500, 'tools/list');
  const end = until();
  const statuses: Record<number, number> = {};
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) {
      const status = (await post(`${base}/mcp`, body)).status;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }));
  return `${Math.round(Buffer.byteLength(body) / 1024)} KiB each; answered ${Object.entries(statuses).map(([status, n]) => `${n} x ${status}`).join(', ')}`;
});

const capBatches = async (base: string, headers: Record<string, string> = {}) => {
  const body = batch(100, 'tools/list');
  const end = until();
  const statuses: Record<number, number> = {};
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) {
      const status = (await post(`${base}/mcp`, body, headers)).status;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }));
  return `answered ${Object.entries(statuses).map(([status, n]) => `${n} x ${status}`).join(', ')}`;
};

await underAttack('batches at the cap (100 tools/list), 64 at a time, no rate limit', 'http.max_batch, http.max_answer_bytes', {}, (base) => capBatches(base));

await underAttack('the same with http.rate_limit 50/s, burst 100', 'one token per message', { http: { auth_tokens: [TOKEN_A, TOKEN_B], rate_limit: { per_second: 50, burst: 100 } } }, (base) => capBatches(base, { authorization: `Bearer ${TOKEN_A}` }), { headers: { authorization: `Bearer ${TOKEN_B}` } });

await underAttack('clients that never read: 500 connections, each a 100-call batch', 'answer bytes per exchange, connections', {}, async (base) => {
  const { hostname, port } = new URL(base);
  const body = batch(100, 'tools/list');
  const sockets: Socket[] = [];
  for (let i = 0; i < 500; i++) {
    const socket = connect({ host: hostname, port: Number(port), localAddress: `127.0.2.${1 + (i % 250)}` });
    socket.on('error', () => undefined);
    socket.write(`POST /mcp HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    socket.pause();
    sockets.push(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const open = sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
  for (const socket of sockets) socket.destroy();
  return `${open} of 500 still open at the end`;
});

await underAttack('15,000 silent connections from 150 addresses', 'http.max_connections (fd budget), idle eviction', {}, async (base, pistom) => {
  const { hostname, port } = new URL(base);
  const sockets: Socket[] = [];
  for (let i = 0; i < 15_000; i++) {
    const socket = connect({ host: hostname, port: Number(port), localAddress: `127.0.3.${1 + (i % 150)}` });
    socket.on('error', () => undefined);
    sockets.push(socket);
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const held = fdsOf(pistom.process.pid!);
  for (const socket of sockets) socket.destroy();
  return `pistom held ${held} descriptors at the end`;
});

await underAttack('one token opens 999 sessions (stateful)', 'http.max_sessions_per_client = 32', { http: { stateful: true, auth_tokens: [TOKEN_A, TOKEN_B] } }, async (base) => {
  let opened = 0;
  let refused = 0;
  const init = rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'flood', version: '0' } });
  for (let i = 0; i < 999; i++) {
    const answer = await post(`${base}/mcp`, init, { authorization: `Bearer ${TOKEN_A}` });
    if (answer.status === 200) opened++;
    else refused++;
  }
  return `${opened} opened, ${refused} refused (429)`;
}, { headers: { authorization: `Bearer ${TOKEN_B}` } });

await underAttack('80 spellings of one token at 1 req/s', 'key = the validated token', { http: { auth_tokens: [TOKEN_A, TOKEN_B], rate_limit: { per_second: 1, burst: 1 } } }, async (base) => {
  let passed = 0;
  const spellings: string[] = [];
  for (const scheme of ['Bearer', 'bearer', 'BEARER', 'BeArEr']) for (const before of [' ', '  ', '\t', ' \t ']) for (const after of ['', ' ', '  ', '\t', ' \t ']) spellings.push(`${scheme}${before}${TOKEN_A}${after}`);
  for (const authorization of spellings) if ((await post(`${base}/mcp`, rpc('tools/list'), { authorization })).status === 200) passed++;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return `${passed} of 80 passed`;
}, { headers: { authorization: `Bearer ${TOKEN_B}` }, everyMs: 1000 });

await underAttack('64 concurrent /metrics scrapers', 'metrics.cache_ms = 1000', {}, async (base) => {
  const end = until();
  let scrapes = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) if ((await post(`${base}/metrics`, '', {}, { method: 'GET' })).status === 200) scrapes++;
  }));
  return `${scrapes} scrapes`;
});

// stdio: a client that stops reading stdout.
{
  const sims = await startSims(1, ['--slots', '64', '--time-scale', '0']);
  const child = spawn(process.execPath, [CLI, 'serve', '--backend', sims.url], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'silent' }, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => undefined);
  try {
    child.stdin.write(`${rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } }, 0)}\n`);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdout.pause();
    const rss = sampler(child.pid!);
    let sent = 0;
    const end = until();
    while (performance.now() < end) {
      if (child.stdin.writableLength < 64 * MB) {
        for (let i = 0; i < 1000; i++) child.stdin.write(`${rpc('tools/list', {}, ++sent)}\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const memory = rss.stop();
    rows.push({ attack: 'stdio: stdout not read, requests keep coming', bound: 'stdin paused until stdout drains', before: memory.before, peak: memory.peak, after: memory.after, fds: memory.peakFds, served: '-', health: '-', note: `${sent} requests written, ${Math.round(child.stdin.writableLength / MB)} MB still in the client's pipe` });
  } finally {
    child.kill('SIGKILL');
    await sims.close();
  }
}

console.log(`\nResident memory of pistom under attack (${seconds} s each, after 200 warm-up calls), with a well-behaved client and /healthz probed beside it (every 100 ms, every 1 s under the rate limit of 1/s)`);
console.log('| attack | bound | RSS before (MB) | RSS peak (MB) | RSS after (MB) | peak fds | well-behaved calls ok | /healthz ok | notes |');
console.log('|---|---|--:|--:|--:|--:|---|---|---|');
for (const r of rows) console.log(`| ${r.attack} | ${r.bound} | ${mb(r.before)} | ${mb(r.peak)} | ${mb(r.after)} | ${r.fds} | ${r.served} | ${r.health} | ${r.note} |`);
console.log(`\nnode ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
