/**
 * Property tests on the HTTP endpoint: random methods, paths, headers and bodies (JSON-RPC-ish,
 * arbitrary JSON, raw bytes, deep nesting), in stateless and stateful mode. Every request gets a
 * status, never a 500; refusals carry a JSON error that says what was wrong; the server keeps
 * serving. Counts go to test-results/robustness/fuzz-http.json.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import { MCP_HEADERS, rawRequest, rpc } from '../helpers/raw-http.js';
import { CrashWatch } from '../chaos/support/harness.js';

const figures = new FigureRecorder('fuzz-http');
afterAll(() => figures.write());

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), token.map((t) => t.toUpperCase()));
const path = fc.oneof({ arbitrary: fc.constant('/mcp'), weight: 4 }, { arbitrary: fc.constantFrom('/', '/mcp/', '/MCP', '/mcp?x=1', '/healthz', '/metrics', '/api/v2/packages', '/..%2f..%2fapi/v2/packages'), weight: 1 });
const jsonRpcish = fc.record({
  jsonrpc: fc.oneof(fc.constant('2.0'), fc.jsonValue()),
  id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.jsonValue()),
  method: fc.oneof(fc.constantFrom('initialize', 'tools/list', 'tools/call', 'resources/read', 'ping', 'notifications/cancelled', 'notifications/initialized'), fc.string()),
  params: fc.oneof(fc.jsonValue(), fc.record({ name: fc.constantFrom('execute', 'cluster_status', 'nope'), arguments: fc.jsonValue() })),
}, { requiredKeys: [] });
const body = fc.oneof(
  jsonRpcish.map((m) => JSON.stringify(m)),
  fc.array(jsonRpcish, { maxLength: 4 }).map((m) => JSON.stringify(m)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.integer({ min: 60, max: 100_000 }).map((depth) => `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
  fc.constant(''),
);
const headers = fc.record({
  'content-type': fc.oneof(fc.constant('application/json'), fc.constantFrom('text/plain', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'multipart/form-data'), headerValue),
  accept: fc.oneof(fc.constant('application/json, text/event-stream'), headerValue),
  'mcp-protocol-version': fc.oneof(fc.constantFrom('2025-06-18', '2025-03-26', '1999-01-01'), headerValue),
  'mcp-session-id': headerValue,
  origin: fc.constantFrom('http://localhost', 'https://evil.example', 'null'),
  authorization: headerValue,
  'x-random': headerValue,
}, { requiredKeys: [] });

describe.each(['stateless', 'stateful'] as const)('fuzz: HTTP endpoint (%s)', (mode) => {
  let sim: SimNode | undefined;
  let app: InProcess | undefined;
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  it('answers every request with a status and a clear error, never a 500, and keeps serving', async () => {
    const watch = new CrashWatch().install();
    sim = await startSimNode();
    app = await startInProcess({ nodes: [{ name: 'a', url: sim.url }], health: { interval_ms: 60_000 }, http: { stateful: mode === 'stateful', max_body_bytes: 64 * 1024 } });
    const url = app.url;
    let cases = 0;
    let lost = 0;
    try {
      await fc.assert(
        fc.asyncProperty(method, path, headers, body, async (m, p, h, b) => {
          cases++;
          const res = await rawRequest(`${url}${p}`, { method: m, headers: h, body: m === 'GET' || m === 'HEAD' ? undefined : b }).catch((error: Error) => {
            lost++;
            throw error;
          });
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThan(600);
          expect(res.status, res.text).not.toBe(500);
          if (res.status >= 400 && m !== 'HEAD' && res.text.length > 0 && String(res.headers['content-type']).startsWith('application/json')) {
            const parsed = res.json() as { error?: { message?: string } | string };
            const message = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message;
            expect(message, res.text).toMatch(/\w{3,}/);
          }
          expect(watch.events, 'unhandled rejections or uncaught exceptions').toEqual([]);
        }),
        { numRuns: 300, seed: 7 },
      );
      const ok = await rawRequest(`${url}/mcp`, { headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-06-18' }, body: rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } }) });
      expect(ok.status).toBe(200);
      expect(watch.events).toEqual([]);
    } finally {
      watch.uninstall();
      figures.row({ class: `HTTP requests, ${mode} (random methods, paths, headers, bodies)`, tried: cases, lost, crashed: watch.events.length });
    }
  });
});
