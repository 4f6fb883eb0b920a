/**
 * Cold start over stdio, as an agent pays it for every session: from spawning the server to the
 * answer to its first tools/list (initialize, notifications/initialized, tools/list, raw JSON-RPC
 * lines), and the server's resident memory at that moment. pistom (the built CLI, `pistom serve`)
 * against the smallest stdio server the SDK makes (one tool), interleaved, in rounds.
 *   npm run bench -- cold-start [--rounds 15]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLI } from '../helpers/pistom.js';
import { median, spread } from './support/stats.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const BARE = fileURLToPath(new URL('./support/bare-stdio-server.mjs', import.meta.url));

interface Start {
  ms: number;
  rssMb: number;
}

/** Spawns `args`, runs the opening of an MCP session over stdio, and measures it. */
function coldStart(args: string[]): Promise<Start> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    let buffer = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before answering tools/list`)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const message = JSON.parse(buffer.slice(0, end)) as { id?: number };
        buffer = buffer.slice(end + 1);
        if (message.id === 1) {
          send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
        } else if (message.id === 2) {
          const ms = performance.now() - started;
          const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN);
          child.removeAllListeners('exit');
          child.once('exit', () => resolve({ ms, rssMb: rssKb / 1024 }));
          child.stdin.end();
          child.kill('SIGTERM');
        }
      }
    });
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cold-start', version: '0' } } });
  });
}

const servers = {
  'bare SDK v2 stdio server (one tool)': [BARE],
  'pistom serve (stdio)': [CLI, 'serve', '--backend', 'http://127.0.0.1:9'],
};
const results = new Map<string, Start[]>(Object.keys(servers).map((name) => [name, []]));
// One unmeasured round first: it fills Node's compile cache, as any earlier start would have.
for (const args of Object.values(servers)) await coldStart(args);
for (let round = 0; round < rounds; round++) {
  for (const [name, args] of Object.entries(servers)) results.get(name)!.push(await coldStart(args));
}

console.log(`\nCold start over stdio: spawn to the answer to tools/list, ${rounds} interleaved rounds (min / median / max)`);
console.log('| server | ms | resident memory MB |');
console.log('|---|---:|---:|');
for (const [name, samples] of results) console.log(`| ${name} | ${spread(samples.map((s) => s.ms), 0)} | ${spread(samples.map((s) => s.rssMb), 0)} |`);
const [bare, pistom] = [...results.values()];
console.log(`\npistom / bare SDK server, medians: ${(median(pistom!.map((s) => s.ms)) / median(bare!.map((s) => s.ms))).toFixed(2)}x (goal <= 1.2x)`);
