/**
 * Connection floods against the HTTP front (issue 11): silent connections are closed after
 * http.idle_timeout_ms; one address holds at most http.max_connections_per_address (its idle ones
 * make room, and when all are busy the next gets 503); the front holds at most
 * http.max_connections, idle ones making room for clients that send requests; and with a small
 * descriptor limit (ulimit -n) the node calls keep their descriptors however many connections
 * are attempted. Beside each attack a well-behaved client is served and /healthz answers.
 * Attackers connect from other loopback addresses (127.0.0.x) so that the per-address bound does
 * not hit the well-behaved client on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { CLI, writeConfig } from '../helpers/pistom.js';
import { MCP_HEADERS, rawRequest, rpc } from '../helpers/raw-http.js';
import { slowProgram, waitFor } from './ops-support.js';

function silent(url: string, localAddress: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

/** What a raw socket got back before the server closed it. */
function answerOf(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.on('error', () => undefined);
  return closed(socket).then(() => text);
}

describe('bounded connections', () => {
  let sim: SimNode | undefined;
  const sockets: Socket[] = [];
  const apps: InProcess[] = [];

  async function serve(http: Partial<ConfigInput['http']> & object): Promise<InProcess> {
    sim ??= await startSimNode({ name: 'only' });
    const app = await startInProcess({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 }, http });
    apps.push(app);
    return app;
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const app of apps.splice(0)) await app.close();
    await sim?.close();
    sim = undefined;
  });

  const wellBehaved = async (url: string) => {
    const res = await rawRequest(`${url}/mcp`, { headers: MCP_HEADERS, body: rpc('tools/call', { name: 'execute', arguments: { language: 'python', code: 'print("ok")' } }) });
    expect(res.status, res.text).toBe(200);
    expect(res.json().result.structuredContent.run.stdout).toBe('ok\n');
    expect((await rawRequest(`${url}/healthz`, { method: 'GET' })).status).toBe(200);
  };

  it('closes a connection that never sends a request after http.idle_timeout_ms', async () => {
    const app = await serve({ idle_timeout_ms: 300 });
    const socket = await silent(app.url, '127.0.0.2');
    sockets.push(socket);
    await closed(socket);
    await waitFor(() => app.http.connectionCount === 0, 'the server to let go of it');
    await wellBehaved(app.url);
  });

  it('holds one address to http.max_connections_per_address: its idle connections make room, its busy ones are never closed', async () => {
    const app = await serve({ max_connections_per_address: 20 });
    for (let i = 0; i < 100; i++) sockets.push(await silent(app.url, '127.0.0.3'));
    await waitFor(() => app.http.connectionCount <= 21, `the flood to be held to 20 connections (${app.http.connectionCount})`);
    await waitFor(() => sockets.filter((s) => !s.destroyed && !s.readableEnded).length <= 20, 'the client side to see the evicted connections closed');
    await wellBehaved(app.url);
  });

  it('answers 503 to a connection from an address whose connections are all busy', async () => {
    const app = await serve({ max_connections_per_address: 3 });
    const { request } = await import('node:http');
    const busy = Array.from({ length: 3 }, () => {
      const req = request(`${app.url}/mcp`, { method: 'POST', headers: MCP_HEADERS, localAddress: '127.0.0.4', agent: false });
      req.on('error', () => undefined);
      req.end(rpc('tools/call', { name: 'execute', arguments: slowProgram(800) }));
      return req;
    });
    await waitFor(() => sim!.stats().inFlight === 3, 'three calls running from 127.0.0.4');
    const fourth = await silent(app.url, '127.0.0.4');
    const text = await answerOf(fourth);
    expect(text).toMatch(/^HTTP\/1\.1 503 Service Unavailable/);
    expect(text).toMatch(/http\.max_connections_per_address/);
    await wellBehaved(app.url);
    for (const req of busy) req.destroy();
  });

  it('holds the front to http.max_connections: a flood of silent connections from many addresses makes room for a client that sends requests', async () => {
    const app = await serve({ max_connections: 30, idle_timeout_ms: 60_000 });
    for (let host = 10; host < 20; host++) for (let i = 0; i < 10; i++) sockets.push(await silent(app.url, `127.0.0.${host}`));
    await waitFor(() => app.http.connectionCount <= 30, `the front to hold 30 connections (${app.http.connectionCount})`);
    await wellBehaved(app.url);
    await wellBehaved(app.url);
  });

  it('keeps descriptors for node calls: with ulimit -n 256, 1,000 connections attempted, calls to the node still succeed', async () => {
    sim = await startSimNode({ name: 'only' });
    const config = writeConfig({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 }, http: { idle_timeout_ms: 60_000 } });
    const child = spawn('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" "${CLI}" serve --http 127.0.0.1:0 --config "${config}"`], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const url = (await waitFor(() => /pistom listening on (http:\/\/\S+)\/mcp/.exec(stderr), 'pistom to listen'))[1]!;
      // 256 - 64 for the node pool - 128 reserved = 64 client connections.
      const attempts = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => silent(url, `127.0.1.${1 + (i % 200)}`)));
      for (const attempt of attempts) if (attempt.status === 'fulfilled') sockets.push(attempt.value);
      for (let i = 0; i < 5; i++) {
        const res = await rawRequest(`${url}/mcp`, { headers: MCP_HEADERS, body: rpc('tools/call', { name: 'execute', arguments: { language: 'python', code: `# pistom-sim: {"stdout": "call ${i}\\n"}\nprint()` } }, i) });
        expect(res.status, res.text).toBe(200);
        expect(res.json().result.structuredContent?.run.stdout, res.text).toBe(`call ${i}\n`);
      }
      expect((await rawRequest(`${url}/healthz`, { method: 'GET' })).status).toBe(200);
      expect(stderr).not.toMatch(/EMFILE/);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});
