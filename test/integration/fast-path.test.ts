/**
 * The HTTP fast path (src/mcp/http/fast-call.ts) answers what the SDK's path answers. The same
 * requests go to two pistom instances in front of one simulated node, one with http.fast_path and
 * one without; the answers must be the same (bar the time spent queued), in both eras, and the
 * fast instance must really have taken its path for the plain calls and not for the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { MCP_HEADERS, messagesOf, modernMeta, modernRpc, rawRequest, type LooseJson } from '../helpers/raw-http.js';

type Era = 'modern' | 'legacy';

function request(era: Era, params: Record<string, unknown>, id: number | string, capabilities: Record<string, unknown> = {}): { headers: Record<string, string>; body: string } {
  if (era === 'modern') return modernRpc('tools/call', params, id, capabilities);
  return { headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }) };
}

/** The answer without what legitimately differs between two runs. */
function normalized(message: LooseJson): LooseJson {
  const copy = structuredClone(message);
  if (copy.result?.structuredContent?.queued_ms !== undefined) copy.result.structuredContent.queued_ms = 0;
  return copy;
}

const PLAIN: Array<{ label: string; params: Record<string, unknown> }> = [
  { label: 'execute', params: { name: 'execute', arguments: { language: 'python', code: 'print("same")' } } },
  { label: 'execute with files and stdin', params: { name: 'execute', arguments: { language: 'py', files: [{ name: 'main.py', content: 'print(input())' }], stdin: 'in\n' } } },
  { label: 'execute, a program that fails', params: { name: 'execute', arguments: { language: 'python', code: '# pistom-sim: {"stderr": "boom\\n", "code": 1}\nraise SystemExit(1)' } } },
  { label: 'execute, invalid arguments', params: { name: 'execute', arguments: { language: 5, code: 'x', extra: true } } },
  { label: 'execute, no arguments', params: { name: 'execute' } },
  { label: 'execute, an unknown language', params: { name: 'execute', arguments: { language: 'cobol-not-really', code: 'x' } } },
  { label: 'execute, over a cap', params: { name: 'execute', arguments: { language: 'python', code: 'x', run_timeout: 999_999_999 } } },
  { label: 'run_python_code', params: { name: 'run_python_code', arguments: { code: 'print(2)' } } },
  { label: 'list_runtimes', params: { name: 'list_runtimes', arguments: {} } },
];

const SDK_ONLY: Array<{ label: string; params: Record<string, unknown>; capabilities?: Record<string, unknown> }> = [
  { label: 'an unknown tool', params: { name: 'nope', arguments: {} } },
  { label: 'arguments that are not an object', params: { name: 'execute', arguments: [1, 2] } },
  { label: 'a name that is not a string', params: { name: 7 } },
  { label: 'an extra params field', params: { name: 'execute', arguments: { language: 'python', code: 'print(1)' }, task: { ttl: 1000 } } },
  { label: 'a progress token', params: { name: 'execute', arguments: { language: 'python', code: 'print(1)' }, _meta: { progressToken: 'p' } } },
];

describe('HTTP fast path', () => {
  let sim: SimNode;
  let fast: InProcess;
  let sdk: InProcess;

  beforeAll(async () => {
    sim = await startSimNode({ name: 'only' });
    const base = { nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 } };
    fast = await startInProcess({ ...base, http: { fast_path: true } });
    sdk = await startInProcess({ ...base, http: { fast_path: false } });
  });

  afterAll(async () => {
    await fast?.close();
    await sdk?.close();
    await sim?.close();
  });

  async function both(era: Era, params: Record<string, unknown>, id: number | string, capabilities?: Record<string, unknown>): Promise<[LooseJson, LooseJson, number]> {
    const { headers, body } = request(era, params, id, capabilities);
    const [a, b] = await Promise.all([rawRequest(`${fast.url}/mcp`, { headers, body }), rawRequest(`${sdk.url}/mcp`, { headers, body })]);
    expect(a.status, `${a.text}\n${b.text}`).toBe(b.status);
    return [normalized(messagesOf(a)[0]), normalized(messagesOf(b)[0]), a.status];
  }

  for (const era of ['legacy', 'modern'] as const) {
    it(`${era} era: plain calls take the fast path and are answered as the SDK answers them`, async () => {
      for (const [index, { label, params }] of PLAIN.entries()) {
        const before = fast.http.fastCalls;
        const [viaFast, viaSdk] = await both(era, params, index + 1);
        expect(viaFast, label).toEqual(viaSdk);
        expect(fast.http.fastCalls - before, `${label} took the fast path`).toBe(1);
      }
      expect(sdk.http.fastCalls).toBe(0);
    });

    it(`${era} era: everything else goes the SDK's way on both`, async () => {
      for (const [index, { label, params }] of SDK_ONLY.entries()) {
        const before = fast.http.fastCalls;
        const [viaFast, viaSdk] = await both(era, params, `x-${index}`);
        expect(viaFast, label).toEqual(viaSdk);
        expect(fast.http.fastCalls - before, `${label} did not take the fast path`).toBe(0);
      }
    });
  }

  it('modern era: envelopes other than the plainest go the SDK way (tasks, log level, capabilities with content, odd client info)', async () => {
    const cases: Array<Record<string, unknown>> = [
      { 'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } } },
      { 'io.modelcontextprotocol/clientCapabilities': { roots: { listChanged: 'yes' } } },
      { 'io.modelcontextprotocol/clientInfo': { name: 'x', version: 1 } },
      { 'io.modelcontextprotocol/logLevel': 'debug' },
    ];
    for (const [index, extra] of cases.entries()) {
      const meta = { ...modernMeta(), ...extra };
      const before = fast.http.fastCalls;
      const [viaFast, viaSdk] = await both('modern', { name: 'list_runtimes', arguments: {}, _meta: meta }, `e-${index}`);
      expect(viaFast, JSON.stringify(extra)).toEqual(viaSdk);
      expect(fast.http.fastCalls - before).toBe(0);
    }
    // Capabilities that are all empty objects are the plain case.
    const before = fast.http.fastCalls;
    const [viaFast, viaSdk] = await both('modern', { name: 'list_runtimes', arguments: {} }, 'caps', { sampling: {}, elicitation: {}, roots: {} });
    expect(viaFast).toEqual(viaSdk);
    expect(fast.http.fastCalls - before).toBe(1);
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`${era} era: tools/list is answered from the SDK's first answer, and the same as the SDK's every time`, async () => {
      const list = () => (era === 'modern' ? modernRpc('tools/list', {}, 'l') : { headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id: 'l', method: 'tools/list' }) });
      for (let i = 0; i < 3; i++) {
        const { headers, body } = list();
        const [a, b] = await Promise.all([rawRequest(`${fast.url}/mcp`, { headers, body }), rawRequest(`${sdk.url}/mcp`, { headers, body })]);
        expect(messagesOf(a)[0]).toEqual(messagesOf(b)[0]);
        expect(messagesOf(a)[0].result.tools.map((t: { name: string }) => t.name)).toContain('execute');
      }
      // With a cursor it is not the plain list: the SDK answers (and validates) it.
      const odd = era === 'modern' ? modernRpc('tools/list', { cursor: 5 }, 'c') : { headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 'c', method: 'tools/list', params: { cursor: 5 } }) };
      const [a, b] = await Promise.all([rawRequest(`${fast.url}/mcp`, odd), rawRequest(`${sdk.url}/mcp`, odd)]);
      expect(a.status).toBe(b.status);
      expect(messagesOf(a)[0]).toEqual(messagesOf(b)[0]);
    });
  }

  it('batches mix both paths and answer every id once', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: PLAIN[0]!.params },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'nope' } },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: PLAIN[7]!.params },
    ];
    const body = JSON.stringify(batch);
    const [a, b] = await Promise.all([rawRequest(`${fast.url}/mcp`, { headers: MCP_HEADERS, body }), rawRequest(`${sdk.url}/mcp`, { headers: MCP_HEADERS, body })]);
    const byId = (text: string) => Object.fromEntries((JSON.parse(text) as LooseJson[]).map((m) => [m.id, normalized(m)]));
    expect(byId(a.text)).toEqual(byId(b.text));
    expect(Object.keys(byId(a.text)).sort()).toEqual(['1', '2', '3', '4']);
  });
});
