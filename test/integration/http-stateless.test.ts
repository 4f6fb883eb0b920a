/**
 * The stateless Streamable HTTP endpoint at the JSON-RPC level: ids restored per client, batches,
 * notifications, and answers that never cross between clients that use the same ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { printing } from '../helpers/programs.js';
import { MCP_HEADERS, modernRpc, rawRequest } from '../helpers/raw-http.js';

const call = (id: number | string, code: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute', arguments: { language: 'python', code } } });

describe('stateless HTTP at the JSON-RPC level', () => {
  let sim: SimNode;
  let app: InProcess;
  let url: string;
  beforeAll(async () => {
    sim = await startSimNode({ timeScale: 0 });
    app = await startInProcess({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 } });
    url = `${app.url}/mcp`;
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });

  it('answers many clients that all use id 1 with their own results', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify(call(1, printing(`client ${i}`))) })),
    );
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      const body = answer.json();
      expect(body.id).toBe(1);
      expect(body.result.structuredContent.run.stdout).toBe(`client ${i}\n`);
    });
  });

  it('answers a batch with one answer per request, ids kept, and refuses duplicate ids', async () => {
    const answer = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify([call('a', printing('A')), { jsonrpc: '2.0', method: 'notifications/initialized' }, call(7, printing('B'))]) });
    expect(answer.status).toBe(200);
    const body = answer.json() as Array<{ id: string | number; result: { structuredContent: { run: { stdout: string } } } }>;
    expect(body.map((item) => item.id).sort()).toEqual([7, 'a']);
    expect(body.find((item) => item.id === 'a')!.result.structuredContent.run.stdout).toBe('A\n');
    const duplicate = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify([call(1, 'print(1)'), call(1, 'print(2)')]) });
    expect(duplicate.status).toBe(400);
    expect(duplicate.json().error.message).toMatch(/share an id/);
  });

  it('accepts notifications alone with 202 and answers unknown methods with a JSON-RPC error', async () => {
    const notification = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    expect(notification.status).toBe(202);
    const unknown = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'no/such/method' }) });
    expect(unknown.status).toBe(200);
    expect(unknown.json()).toMatchObject({ id: 3, error: { code: -32601, message: expect.stringMatching(/^Method not found: "no\/such\/method" is not a method this server answers; it serves MCP's tools \(tools\/list, tools\/call\)/) } });
    // A message that is not JSON-RPC 2.0 is told what is required, and keeps its id.
    const old = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '1.0', id: 4, method: 'tools/list' }) });
    expect(old.status).toBe(400);
    expect(old.json()).toMatchObject({ id: 4, error: { code: -32600, message: expect.stringContaining('not a JSON-RPC 2.0 message (needs "jsonrpc": "2.0"') } });
  });

  it('refuses GET and DELETE in stateless mode with 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const answer = await rawRequest(url, { method, headers: { accept: 'text/event-stream' } });
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('POST');
    }
  });

  it('2026-07-28: many clients with id 1, each answered with its own result, resultType and server identity', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => {
      const request = modernRpc('tools/call', { name: 'execute', arguments: { language: 'python', code: printing(`modern ${i}`) } }, 1);
      return rawRequest(url, request);
    }));
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      const body = answer.json();
      expect(body.id).toBe(1);
      expect(body.result.resultType).toBe('complete');
      expect(body.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('pistom');
      expect(body.result.structuredContent.run.stdout).toBe(`modern ${i}\n`);
    });
  });

  it('2026-07-28: errors carry the request id and the status the transport binding gives them', async () => {
    const call = modernRpc('tools/call', { name: 'execute', arguments: { language: 'python', code: 'print(1)' } }, 'req-9');
    delete (call.headers as Record<string, string | undefined>)['mcp-protocol-version'];
    const missing = await rawRequest(url, { headers: call.headers, body: call.body });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ id: 'req-9', error: { code: -32020 } });
    const wrongName = modernRpc('tools/call', { name: 'execute', arguments: {} }, 10);
    const mismatch = await rawRequest(url, { headers: { ...wrongName.headers, 'mcp-name': 'list_runtimes' }, body: wrongName.body });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json()).toMatchObject({ id: 10, error: { code: -32020 } });
    const future = JSON.parse(modernRpc('tools/list', {}, 11).body);
    future.params._meta['io.modelcontextprotocol/protocolVersion'] = '2099-01-01';
    const unsupported = await rawRequest(url, { headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' }, body: JSON.stringify(future) });
    expect(unsupported.status).toBe(400);
    expect(unsupported.json()).toMatchObject({ id: 11, error: { code: -32022, data: { supported: ['2026-07-28'] } } });
    const unknownMethod = await rawRequest(url, modernRpc('no/such/method', {}, 12));
    expect(unknownMethod.status).toBe(404);
    expect(unknownMethod.json()).toMatchObject({ id: 12, error: { code: -32601 } });
    const unknownTool = await rawRequest(url, modernRpc('tools/call', { name: 'nope', arguments: {} }, 13));
    expect(unknownTool.json()).toMatchObject({ id: 13, error: { code: -32602, message: expect.stringMatching(/unknown tool "nope"/) } });
  });

  it('2025: an unknown tool is -32602 too, and a batch may not mix in a 2026-07-28 request', async () => {
    const unknown = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'nope', arguments: {} } }) });
    expect(unknown.json()).toMatchObject({ id: 5, error: { code: -32602 } });
    const modern = JSON.parse(modernRpc('tools/list', {}, 2).body);
    const mixed = await rawRequest(url, { headers: MCP_HEADERS, body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, modern]) });
    expect(mixed.status).toBe(400);
  });
});
