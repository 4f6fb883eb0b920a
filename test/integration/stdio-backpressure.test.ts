/**
 * stdio against a client that misbehaves (issue 11): a batch line is answered (-32600), and a
 * client that stops reading stdout makes pistom stop reading stdin (backpressure) instead of
 * buffering answers without end. Once the client reads again, every request is answered exactly
 * once and the client is served as before. The built CLI, on our own pipes.
 */
import { spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { CLI } from '../helpers/pistom.js';
import { waitFor } from './ops-support.js';

let sim: SimNode | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const line = (message: unknown) => `${JSON.stringify(message)}\n`;

it('answers a batch line, stops reading stdin while stdout is not read, and answers every request once it is', async () => {
  sim = await startSimNode({ name: 'only' });
  const child = spawn(process.execPath, [CLI, 'serve', '--backend', sim.url], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'debug' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const answers = new Map<number | string | null, number>();
  const messages: Array<{ id?: number | string | null; error?: { code: number; message: string }; result?: { structuredContent?: { run: { stdout: string } } } }> = [];
  let pending = '';
  const onData = (chunk: Buffer) => {
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const message = JSON.parse(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      messages.push(message);
      if ('id' in message) answers.set(message.id, (answers.get(message.id) ?? 0) + 1);
    }
  };
  try {
    child.stdout.on('data', onData);
    child.stdin.write(line({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }));
    await waitFor(() => answers.has('init'), 'initialize to be answered');
    child.stdin.write(line({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    child.stdin.write(`${JSON.stringify([{ jsonrpc: '2.0', id: 'b1', method: 'tools/list' }, { jsonrpc: '2.0', id: 'b2', method: 'tools/list' }])}\n`);
    await waitFor(() => messages.find((m) => m.id === null && m.error?.code === -32600), 'the batch line to be answered');

    // Stop reading stdout, and keep sending requests whose answers are large (the tool list).
    child.stdout.off('data', onData);
    child.stdout.pause();
    const total = 3000;
    for (let id = 1; id <= total; id++) child.stdin.write(line({ jsonrpc: '2.0', id, method: 'tools/list' }));
    await waitFor(() => stderr.includes('stdout is not being read; stopped reading stdin'), 'pistom to stop reading stdin', undefined, 60_000);
    // pistom does not read what we send: it waits in our pipe.
    expect(child.stdin.writableLength).toBeGreaterThan(0);
    expect(answers.size).toBeLessThan(total);

    // Read again: everything is answered, once.
    child.stdout.on('data', onData);
    child.stdout.resume();
    await waitFor(() => answers.size >= total + 1, `all ${total} requests to be answered (${answers.size - 1})`, undefined, 120_000);
    for (let id = 1; id <= total; id++) expect(answers.get(id), `answers to ${id}`).toBe(1);

    child.stdin.write(line({ jsonrpc: '2.0', id: 'after', method: 'tools/call', params: { name: 'execute', arguments: { language: 'python', code: 'print("after")' } } }));
    const after = await waitFor(() => messages.find((m) => m.id === 'after'), 'the call after the stall');
    expect(after.result?.structuredContent?.run.stdout).toBe('after\n');
    expect(stderr).not.toMatch(/uncaught|unhandled|FATAL/i);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
});
