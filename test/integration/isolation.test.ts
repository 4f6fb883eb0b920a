/**
 * No client can reach another's request (issue 11, per-request isolation). Two clients send the
 * same JSON-RPC id at once; one cancels, in every way a client can (a notifications/cancelled
 * naming the shared id in a separate POST, then closing its own exchange). The other must get its
 * own answer, its own progress, and nothing of the first. Both eras, anonymous and with one shared
 * bearer token, directly and behind one reverse proxy (one address, pooled connections).
 */
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import type { CallReport } from '../../src/router.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { abortableRequest, messagesOf, modernRpc, MCP_HEADERS, rawRequest } from '../helpers/raw-http.js';
import { connectHttp } from '../helpers/pistom.js';
import { waitFor } from './ops-support.js';

const TOKEN = 'shared-token-0123456789abcdef';
const slow = (label: string) => ({ language: 'python', code: `# pistom-sim: {"stdout": "${label}\\n", "wall_ms": 700}\nprint("${label}")` });

type Era = 'modern' | 'legacy';

function callBody(era: Era, id: number, label: string): { headers: Record<string, string>; body: string } {
  const params = { name: 'execute', arguments: slow(label), _meta: { progressToken: 'same-token' } };
  if (era === 'modern') return modernRpc('tools/call', params, id);
  return { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }) };
}

function cancelBody(era: Era, id: number): { headers: Record<string, string>; body: string } {
  const params = { requestId: id, reason: 'A cancels "its" call' };
  if (era === 'modern') {
    const { headers, body } = modernRpc('notifications/cancelled', params);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    delete parsed.id;
    return { headers, body: JSON.stringify(parsed) };
  }
  return { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params }) };
}

/** A plain reverse proxy: every client behind it reaches pistom from one address, over pooled connections. */
function reverseProxy(target: string): { server: Server; agent: Agent } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req, res) => {
    const upstream = request(`${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(target).host }, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  return { server, agent };
}

describe('per-request isolation', () => {
  let sim: SimNode;
  const apps: Record<'open' | 'token', InProcess> = {} as never;
  const reports: CallReport[] = [];

  beforeAll(async () => {
    sim = await startSimNode({ name: 'only' });
    const nodes = [{ name: 'only', url: sim.url }];
    const hooks = { callFinished: (report: CallReport) => reports.push(report) };
    apps.open = await startInProcess({ nodes, health: { interval_ms: 60_000 } }, { hooks });
    apps.token = await startInProcess({ nodes, health: { interval_ms: 60_000 }, http: { auth_tokens: [TOKEN] } }, { hooks });
  });

  afterAll(async () => {
    await apps.open?.close();
    await apps.token?.close();
    await sim?.close();
  });

  const cases: Array<{ era: Era; via: 'direct' | 'proxy'; auth: 'none' | 'shared token' }> = [];
  for (const era of ['modern', 'legacy'] as const) {
    cases.push({ era, via: 'direct', auth: 'none' }, { era, via: 'direct', auth: 'shared token' }, { era, via: 'proxy', auth: 'none' });
  }

  it.each(cases)('$era era, $via, $auth: a cancellation with the same id touches only its own request', async ({ era, via, auth }) => {
    const proxy = via === 'proxy' ? reverseProxy(apps.open.url) : undefined;
    if (proxy) await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      proxy?.server.closeAllConnections();
      await new Promise((resolve) => (proxy ? proxy.server.close(resolve) : resolve(undefined)));
      proxy?.agent.destroy();
    });
    const base = proxy ? `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}` : auth === 'shared token' ? apps.token.url : apps.open.url;
    const url = `${base}/mcp`;
    const extra: Record<string, string> = auth === 'shared token' ? { authorization: `Bearer ${TOKEN}` } : {};
    const before = reports.length;
    const a = callBody(era, 60, 'A');
    const b = callBody(era, 60, 'B');
    const callA = abortableRequest(url, { headers: { ...a.headers, ...extra }, body: a.body });
    const callB = abortableRequest(url, { headers: { ...b.headers, ...extra }, body: b.body });
    await waitFor(() => apps.open.http.pending + apps.token.http.pending === 2, `both calls in flight in pistom (${apps.open.http.pending} + ${apps.token.http.pending})`);

    const cancel = cancelBody(era, 60);
    const notification = await rawRequest(url, { headers: { ...cancel.headers, ...extra }, body: cancel.body });
    expect(notification.status, notification.text).toBe(202);
    callA.abort();
    await expect(callA.response).rejects.toThrow();

    const answerB = await callB.response;
    expect(answerB.status).toBe(200);
    const messages = messagesOf(answerB);
    const result = messages.find((m) => m.id !== undefined);
    expect(result.id).toBe(60);
    expect(result.error, JSON.stringify(result.error)).toBeUndefined();
    expect(result.result.structuredContent.run.stdout).toBe('B\n');
    const progress = messages.filter((m) => m.method === 'notifications/progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((m) => m.params.progressToken === 'same-token')).toBe(true);
    expect(answerB.text).not.toContain('A\\n');

    // A's own call was the one stopped (closing its exchange cancels it); B's ran to the end.
    const finished = await waitFor(() => (reports.length - before >= 2 ? reports.slice(before) : undefined), 'both calls to finish in the router');
    expect(finished.map((r) => r.outcome).sort()).toEqual(['cancelled', 'ok']);
  });

  it('SDK clients (both counting ids from the same start): one aborts, the other is answered', async () => {
    for (const era of ['modern', 'legacy'] as const) {
      const first = await connectHttp(apps.open.url, {}, era);
      const second = await connectHttp(apps.open.url, {}, era);
      try {
        const before = reports.length;
        const controller = new AbortController();
        const callA = first.call('execute', slow('A'), { signal: controller.signal });
        const callB = second.call('execute', slow('B'));
        await waitFor(() => sim.stats().inFlight === 2, 'both calls running on the node');
        controller.abort();
        await expect(callA).rejects.toThrow();
        const resultB = await callB;
        expect(resultB.structuredContent!.run.stdout).toBe('B\n');
        if (era === 'modern') {
          // The v2 client closes the request's stream when its signal aborts: the call stops at once.
          const finished = await waitFor(() => (reports.length - before >= 2 ? reports.slice(before) : undefined), 'both calls to finish');
          expect(finished.map((r) => r.outcome).sort()).toEqual(['cancelled', 'ok']);
        }
      } finally {
        await first.close();
        await second.close();
      }
    }
  });
});
