/**
 * stdio against a hostile or broken client (the built CLI, spawned): malformed JSON-RPC lines,
 * partial lines, binary garbage and an early EOF never crash pistom or put anything but protocol
 * on stdout, and EOF ends it cleanly (exit 0). Counts go to test-results/robustness/stdio-garbage.json.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { CLI } from '../helpers/pistom.js';
import { printing } from '../helpers/programs.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import type { LooseJson } from '../helpers/raw-http.js';

const figures = new FigureRecorder('stdio-garbage');
let sim: SimNode;
beforeAll(async () => {
  sim = await startSimNode({ latencyMs: 50 });
});
afterAll(async () => {
  figures.write();
  await sim.close();
});

interface Session {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  send(text: string | Buffer): void;
  /** Waits for a JSON-RPC answer with this id on stdout. */
  answer(id: number): Promise<LooseJson>;
}

function start(): Session {
  const child = spawn(process.execPath, [CLI, 'serve', '--backend', sim.url], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'debug' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = () => out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LooseJson);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    send: (text) => child.stdin.write(text),
    answer: async (id) => {
      for (let i = 0; i < 200; i++) {
        const found = lines().find((message) => message.id === id && ('result' in message || 'error' in message));
        if (found) return found;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no answer to id ${id}; stdout:\n${out}\nstderr:\n${err}`);
    },
  };
}

const rpc = (id: number, method: string, params: Record<string, unknown> = {}) => `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'garbage', version: '0' } }) + `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`;

/** Every line on stdout is one JSON-RPC 2.0 message. */
function expectProtocolOnly(stdout: string): number {
  const lines = stdout.split('\n');
  expect(lines.at(-1), 'stdout ends with a complete line').toBe('');
  for (const line of lines.slice(0, -1)) {
    const message = JSON.parse(line) as Record<string, unknown>;
    expect(message.jsonrpc).toBe('2.0');
  }
  return lines.length - 1;
}

const GARBAGE: Array<[string, string | Buffer]> = [
  ['not JSON', 'hello\n'],
  ['truncated JSON', '{"jsonrpc":"2.0","id":2,"method":"tools/li\n'],
  ['JSON, not JSON-RPC', '{"foo":1}\n[1,2,3]\n"str"\n42\nnull\n'],
  ['wrong jsonrpc version', '{"jsonrpc":"1.0","id":3,"method":"ping"}\n'],
  ['empty and blank lines', '\n\n   \n\r\n'],
  ['unknown method', rpc(4, 'no/such/method')],
  ['tools/call of an unknown tool', rpc(5, 'tools/call', { name: 'nope', arguments: {} })],
  ['execute with wrong arguments', rpc(6, 'tools/call', { name: 'execute', arguments: { language: 42 } })],
  ['a response nobody asked for', '{"jsonrpc":"2.0","id":999,"result":{}}\n'],
  ['deep nesting', `{"jsonrpc":"2.0","id":7,"method":"ping","params":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}\n`],
  ['binary garbage', Buffer.concat([randomBytes(4096), Buffer.from('\n'), randomBytes(1024), Buffer.from([0, 0xff, 0xfe, 0x0a])])],
  ['invalid UTF-8 inside a string', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":8,"method":"ping","params":{"s":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}}\n')])],
  ['lone surrogates', '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"execute","arguments":{"language":"python","code":"\\ud800\\udfff\\udc00"}}}\n'],
];

it('survives malformed lines, binary garbage and partial lines, writing only protocol to stdout', async () => {
  const session = start();
  session.send(INIT);
  expect((await session.answer(1)).result.serverInfo.name).toBe('pistom');
  let tried = 0;
  for (const [, garbage] of GARBAGE) {
    session.send(garbage);
    tried++;
  }
  // A message split across writes, byte by byte at the end.
  const split = rpc(10, 'tools/call', { name: 'execute', arguments: { language: 'python', code: printing('split') } });
  session.send(split.slice(0, 20));
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const char of split.slice(20)) session.send(char);
  tried++;
  const answer = await session.answer(10);
  expect(answer.result.structuredContent.run.stdout).toBe('split\n');
  expect((await session.answer(6)).result?.isError ?? (await session.answer(6)).error).toBeTruthy();
  expect((await session.answer(4)).error).toMatchObject({ code: -32601, message: expect.stringMatching(/^Method not found: ".+" is not a method this server answers/) });
  expect(await session.answer(9)).toBeDefined();
  session.send('{"jsonrpc":"2.0","id":11,"method":"pi'); // a partial line, then EOF
  session.child.stdin.end();
  const code = await session.exited;
  tried++;
  const lines = expectProtocolOnly(session.stdout());
  figures.row({ class: 'stdio: malformed, binary, partial lines, EOF', tried, lost: 0, crashed: code === 0 ? 0 : 1, note: `${lines} protocol lines on stdout, nothing else` });
  expect(code, session.stderr()).toBe(0);
  expect(session.stderr()).not.toMatch(/unhandled|uncaught|TypeError|RangeError/i);
});

it('ends cleanly on EOF in the middle of a call, after answering it', async () => {
  const session = start();
  session.send(INIT);
  await session.answer(1);
  session.send(rpc(2, 'tools/call', { name: 'execute', arguments: { language: 'python', code: printing('last') } }));
  session.child.stdin.end();
  const code = await session.exited;
  expect(code, session.stderr()).toBe(0);
  expectProtocolOnly(session.stdout());
  figures.row({ class: 'stdio: EOF during a call', tried: 1, lost: session.stdout().includes('"id":2') ? 0 : 1, crashed: code === 0 ? 0 : 1 });
  expect(session.stdout()).toContain('last');
});

it('ends cleanly on EOF before anything was said', async () => {
  const session = start();
  session.child.stdin.end();
  expect(await session.exited).toBe(0);
  expect(session.stdout()).toBe('');
  figures.row({ class: 'stdio: EOF at once', tried: 1, lost: 0, crashed: 0 });
});

it('answers what it cannot use: -32700 for a line that is not JSON, -32600 for a batch line or a non-message, -32602 for an unknown tool', async () => {
  const session = start();
  session.send(INIT);
  await session.answer(1);
  session.send('this is not json\n');
  session.send('[{"jsonrpc":"2.0","id":20,"method":"ping"}]\n');
  session.send('{"jsonrpc":"1.0","id":21,"method":"ping"}\n');
  session.send(rpc(22, 'tools/call', { name: 'nope', arguments: {} }));
  expect((await session.answer(21)).error.code).toBe(-32600);
  const unknownTool = await session.answer(22);
  expect(unknownTool.error).toMatchObject({ code: -32602, message: expect.stringMatching(/unknown tool "nope"/) });
  const nullIds = session
    .stdout()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LooseJson)
    .filter((message) => message.id === null);
  expect(nullIds.map((message) => message.error.code).sort()).toEqual([-32700, -32600].sort());
  expect(session.stderr()).toMatch(/a line that is not JSON; answered -32700/);
  session.child.stdin.end();
  expect(await session.exited).toBe(0);
});

it('speaks 2026-07-28 when the connection opens with the per-request envelope, and checks every request\'s claimed revision', async () => {
  const executedBefore = sim.stats().executed;
  const session = start();
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '0' } };
  session.send(rpc(1, 'server/discover', { _meta: meta }));
  const discover = await session.answer(1);
  expect(discover.result).toMatchObject({ supportedVersions: ['2026-07-28'], resultType: 'complete' });
  session.send(rpc(2, 'tools/call', { name: 'execute', arguments: { language: 'python', code: printing('modern') }, _meta: meta }));
  const call = await session.answer(2);
  expect(call.result).toMatchObject({ resultType: 'complete', structuredContent: { run: { stdout: 'modern\n' } } });
  // Every later request's claim is checked too, not only the one that opened the connection.
  const claims = ['2099-01-01', 'garbage', '2025-11-25'];
  claims.forEach((version, i) => session.send(rpc(3 + i, i === 1 ? 'tools/list' : 'tools/call', { name: 'execute', arguments: { language: 'python', code: printing('never') }, _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': version } })));
  for (const [i, version] of claims.entries()) {
    const refused = await session.answer(3 + i);
    expect(refused.error).toMatchObject({ code: -32022, message: expect.stringContaining(version), data: { supported: ['2026-07-28'], requested: version } });
  }
  session.send(rpc(6, 'tools/list', { _meta: meta }));
  expect((await session.answer(6)).result).toMatchObject({ resultType: 'complete' });
  expect(sim.stats().executed).toBe(executedBefore + 1);
  session.child.stdin.end();
  expect(await session.exited).toBe(0);
});
