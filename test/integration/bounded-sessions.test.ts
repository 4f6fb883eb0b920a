/**
 * Stateful sessions against hostile clients (issue 11): one client holds at most
 * http.max_sessions_per_client sessions, so it cannot fill http.max_sessions for everyone; a
 * session answers only the client that opened it (its token, or its address without auth): to
 * anyone else holding its id it does not exist, for calls, DELETE and cancellations alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { MCP_HEADERS, messagesOf, rawRequest, rpc } from '../helpers/raw-http.js';
import { connectHttp } from '../helpers/pistom.js';

const TOKEN_A = 'token-aaaaaaaaaaaaaaaaaaaaaaaa';
const TOKEN_B = 'token-bbbbbbbbbbbbbbbbbbbbbbbb';
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const INIT = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } };

describe('bounded sessions', () => {
  let sim: SimNode | undefined;
  const apps: InProcess[] = [];

  async function serve(http: Partial<ConfigInput['http']> & object): Promise<InProcess> {
    sim ??= await startSimNode({ name: 'only' });
    const app = await startInProcess({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 }, http: { stateful: true, ...http } });
    apps.push(app);
    return app;
  }

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await sim?.close();
    sim = undefined;
  });

  async function initialize(url: string, headers: Record<string, string>, localAddress?: string) {
    const res = await rawRequest(`${url}/mcp`, { headers: { ...MCP_HEADERS, ...headers }, body: rpc('initialize', INIT), ...(localAddress ? { localAddress } : {}) });
    return { res, id: res.headers['mcp-session-id'] as string | undefined };
  }

  const inSession = (url: string, id: string, headers: Record<string, string>, body = rpc('tools/list', {}, 2), method = 'POST') =>
    rawRequest(`${url}/mcp`, { method, headers: { ...MCP_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25', ...headers }, ...(method === 'POST' ? { body } : {}) });

  it('caps sessions per client: a token at http.max_sessions_per_client gets 429, another token still opens one and calls in it', async () => {
    const app = await serve({ auth_tokens: [TOKEN_A, TOKEN_B], max_sessions_per_client: 3, max_sessions: 10 });
    const opened: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { res, id } = await initialize(app.url, as(TOKEN_A));
      expect(res.status, res.text).toBe(200);
      opened.push(id!);
    }
    for (let i = 0; i < 50; i++) {
      const { res, id } = await initialize(app.url, as(TOKEN_A));
      expect(res.status).toBe(429);
      expect(id).toBeUndefined();
      if (i === 0) expect(res.json().error.message).toMatch(/already holds 3 open sessions \(http\.max_sessions_per_client\); close one with DELETE/);
    }
    const b = await connectHttp(app.url, as(TOKEN_B), 'legacy');
    try {
      const result = await b.call('execute', { language: 'python', code: 'print("B")' });
      expect(result.structuredContent!.run.stdout).toBe('B\n');
    } finally {
      await b.close();
    }
    // A closes one of its sessions: it may open another.
    expect((await inSession(app.url, opened[0]!, as(TOKEN_A), undefined, 'DELETE')).status).toBe(200);
    expect((await initialize(app.url, as(TOKEN_A))).res.status).toBe(200);
  });

  it("binds a session to the token that opened it: another token holding the id can neither call in it, nor delete it", async () => {
    const app = await serve({ auth_tokens: [TOKEN_A, TOKEN_B] });
    const { id } = await initialize(app.url, as(TOKEN_A));
    expect(id).toBeTruthy();
    const call = await inSession(app.url, id!, as(TOKEN_B));
    expect(call.status).toBe(404);
    expect(call.json().error.message).toMatch(/Session not found/);
    expect((await inSession(app.url, id!, as(TOKEN_B), undefined, 'DELETE')).status).toBe(404);
    const cancel = await inSession(app.url, id!, as(TOKEN_B), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } }));
    expect(cancel.status).toBe(404);
    // The owner's session is untouched.
    const own = await inSession(app.url, id!, as(TOKEN_A));
    expect(own.status).toBe(200);
    expect(messagesOf(own)[0].result.tools.length).toBeGreaterThan(0);
  });

  it('binds a session to the address that opened it when there are no tokens', async () => {
    const app = await serve({});
    const { id } = await initialize(app.url, {}, '127.0.0.2');
    expect(id).toBeTruthy();
    expect((await inSession(app.url, id!, {})).status, 'from 127.0.0.1').toBe(404);
    const own = await rawRequest(`${app.url}/mcp`, { headers: { ...MCP_HEADERS, 'mcp-session-id': id!, 'mcp-protocol-version': '2025-11-25' }, body: rpc('tools/list', {}, 2), localAddress: '127.0.0.2' });
    expect(own.status).toBe(200);
  });
});
