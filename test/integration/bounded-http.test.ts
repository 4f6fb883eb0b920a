/**
 * Bounded HTTP front (issue 11), one hostile input per test, each with a well-behaved client beside
 * the attack that must still be served: batches over http.max_batch, answers over
 * http.max_answer_bytes (refused with an error and counted as undelivered, never as ok), a batch
 * that pays the rate limit per call, 80 spellings of one token against a 1-token bucket, one
 * client's batch of long calls against the queue (admission.max_queued_per_client and rounds), and
 * a flood of /metrics scrapes (rendered at most once per metrics.cache_ms).
 * Real HTTP on loopback, in-process pistom, in-process simulated node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { cachedRender } from '../../src/metrics.js';
import { PistomHttpServer } from '../../src/mcp/http/server.js';
import { parseConfig } from '../../src/config/load.js';
import { createPistom } from '../../src/app.js';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { MCP_HEADERS, messagesOf, modernRpc, rawRequest, rpc } from '../helpers/raw-http.js';
import { slowProgram, waitFor } from './ops-support.js';

const TOKEN_A = 'token-aaaaaaaaaaaaaaaaaaaaaaaa';
const TOKEN_B = 'token-bbbbbbbbbbbbbbbbbbbbbbbb';

describe('bounded HTTP front', () => {
  let sim: SimNode | undefined;
  const open: Array<{ close(): Promise<void> }> = [];
  const calls: Array<{ tool: string; outcome: string }> = [];

  async function serve(config: Partial<ConfigInput> = {}): Promise<InProcess> {
    sim ??= await startSimNode({ name: 'only', slots: 16 });
    const app = await startInProcess({ nodes: [{ name: 'only', url: sim.url, max_concurrent: 2 }], health: { interval_ms: 60_000 }, ...config }, { onToolCall: (tool, outcome) => calls.push({ tool, outcome }) });
    open.push(app);
    return app;
  }

  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
    await sim?.close();
    sim = undefined;
    calls.length = 0;
  });

  const batchOf = (n: number, make: (i: number) => Record<string, unknown>) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, ...make(i) })));
  const wellBehaved = async (url: string, headers: Record<string, string> = {}) => {
    const res = await rawRequest(`${url}/mcp`, { headers: { ...MCP_HEADERS, ...headers }, body: rpc('tools/call', { name: 'execute', arguments: { language: 'python', code: 'print("ok")' } }) });
    expect(res.status, res.text).toBe(200);
    expect(res.json().result.structuredContent.run.stdout).toBe('ok\n');
  };

  it('refuses a batch over http.max_batch before running any of it, and serves the batch at the cap and the client beside', async () => {
    const app = await serve({ http: { max_batch: 10 } });
    const over = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: batchOf(11, () => ({ method: 'tools/list' })) });
    expect(over.status).toBe(400);
    expect(over.json().error).toMatchObject({ code: -32600, message: expect.stringMatching(/a batch of 11 messages; at most 10 .*http\.max_batch/) });
    const huge = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: batchOf(20_000, () => ({ method: 'tools/list' })) });
    expect(huge.status, 'the 20,000-call batch of the issue').toBe(400);
    const atCap = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: batchOf(10, () => ({ method: 'tools/list' })) });
    expect(atCap.status).toBe(200);
    expect(atCap.json().map((m: { id: number }) => m.id).sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await wellBehaved(app.url);
    expect((await rawRequest(`${app.url}/healthz`, { method: 'GET' })).status).toBe(200);
  });

  it('bounds the bytes of an answer: past http.max_answer_bytes an answer becomes an error that says so, and the call counts as undelivered', async () => {
    const app = await serve({ http: { max_answer_bytes: 1500 } });
    // One answer over the bound (1,000 characters of output, twice: as text and as structured content).
    const big = { language: 'python', code: `# pistom-sim: {"stdout": "${'x'.repeat(1000)}"}\nprint()` };
    const single = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: rpc('tools/call', { name: 'execute', arguments: big }, 7) });
    expect(single.status).toBe(200);
    expect(single.json()).toMatchObject({ id: 7, error: { code: -32603, message: expect.stringMatching(/the answer \(\d+ bytes\) would take this HTTP response past http\.max_answer_bytes \(1500 bytes\)/) } });
    expect(single.text.length).toBeLessThan(500);
    // A batch streamed as an array: the answers that fit, then errors for the rest; never more than the bound (plus the small errors).
    const batch = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: batchOf(12, () => ({ method: 'tools/call', params: { name: 'execute', arguments: { language: 'python', code: 'print("hi")' } } })) });
    expect(batch.status).toBe(200);
    const answers = batch.json() as Array<{ id: number; result?: unknown; error?: { message: string } }>;
    expect(answers.map((a) => a.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const served = answers.filter((a) => a.result).length;
    const refused = answers.filter((a) => a.error);
    expect(served).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => /http\.max_answer_bytes/.test(a.error!.message))).toBe(true);
    expect(Buffer.byteLength(batch.text)).toBeLessThanOrEqual(1500 + 12 * 400);
    await waitFor(() => calls.length === 13, 'every call to be counted');
    expect(calls.filter((c) => c.outcome === 'ok')).toHaveLength(served);
    expect(calls.filter((c) => c.outcome === 'undelivered')).toHaveLength(refused.length + 1);
    await wellBehaved(app.url);
  });

  it('counts a call whose client left before its answer as undelivered, not ok', async () => {
    const app = await serve();
    const { request } = await import('node:http');
    const req = request(`${app.url}/mcp`, { method: 'POST', headers: MCP_HEADERS, agent: false });
    req.on('error', () => undefined);
    req.end(rpc('tools/call', { name: 'execute', arguments: slowProgram(400) }));
    await waitFor(() => sim!.stats().inFlight === 1, 'the call to run on the node');
    req.destroy();
    await waitFor(() => calls.length === 1, 'the call to be counted');
    expect(calls[0]!.outcome).not.toBe('ok');
    await wellBehaved(app.url);
  });

  it('charges each call of a batch to the rate limit, and refuses a batch larger than the burst whatever the wait', async () => {
    const app = await serve({ http: { rate_limit: { per_second: 0.01, burst: 5 }, auth_tokens: [TOKEN_A, TOKEN_B] } });
    const asA = { ...MCP_HEADERS, authorization: `Bearer ${TOKEN_A}` };
    expect((await rawRequest(`${app.url}/mcp`, { headers: asA, body: batchOf(4, () => ({ method: 'tools/list' })) })).status).toBe(200);
    const second = await rawRequest(`${app.url}/mcp`, { headers: asA, body: batchOf(3, () => ({ method: 'tools/list' })) });
    expect(second.status, 'one token left, three calls').toBe(429);
    expect(second.json().error.message).toMatch(/a batch costs one request per message: this one 3/);
    const tooBig = await rawRequest(`${app.url}/mcp`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN_B}` }, body: batchOf(6, () => ({ method: 'tools/list' })) });
    expect(tooBig.status).toBe(429);
    expect(tooBig.json().error.message).toMatch(/more than the burst of 5: split it/);
    await wellBehaved(app.url, { authorization: `Bearer ${TOKEN_B}` });
  });

  it('keys the rate limit by the validated token: 80 spellings of one token share one bucket', async () => {
    const app = await serve({ http: { rate_limit: { per_second: 0.01, burst: 1 }, auth_tokens: [TOKEN_A, TOKEN_B] } });
    const schemes = ['Bearer', 'bearer', 'BEARER', 'BeArEr'];
    const spellings: string[] = [];
    for (const scheme of schemes) for (const before of [' ', '  ', '\t', ' \t ']) for (const after of ['', ' ', '  ', '\t', ' \t ']) spellings.push(`${scheme}${before}${TOKEN_A}${after}`);
    expect(spellings).toHaveLength(80);
    const statuses: number[] = [];
    for (const authorization of spellings) statuses.push((await rawRequest(`${app.url}/mcp`, { headers: { ...MCP_HEADERS, authorization }, body: rpc('tools/list') })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(79);
    await wellBehaved(app.url, { authorization: `Bearer ${TOKEN_B}` });
  });

  it("gives each client a fair share of the queue: one client's batch of long calls neither locks another out nor delays it past a round", async () => {
    // 2 slots, 4 places in the queue: A's batch takes them all, until B comes.
    const app = await serve({ admission: { max_queue: 4 }, http: { auth_tokens: [TOKEN_A, TOKEN_B] } });
    const flood = rawRequest(`${app.url}/mcp`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN_A}` }, body: batchOf(40, () => ({ method: 'tools/call', params: { name: 'execute', arguments: slowProgram(500) } })) });
    let floodDone = false;
    void flood.then(() => (floodDone = true));
    await waitFor(() => app.pistom.router.queueSize === 4, 'the flood to fill the queue');
    const beside = await rawRequest(`${app.url}/mcp`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN_B}` }, body: rpc('tools/call', { name: 'execute', arguments: slowProgram(500) }) });
    // Rounds: B's first call starts at the first free slot, ahead of A's second waiting call, so the
    // flood is still running when B has its answer (first come first served would finish it first).
    expect(floodDone).toBe(false);
    expect(beside.status).toBe(200);
    expect(beside.json().result.isError, JSON.stringify(beside.json())).toBeUndefined();
    const answers = (await flood).json() as Array<{ result: { isError?: boolean; _meta?: Record<string, { code: string; message: string }> } }>;
    const refused = answers.filter((a) => a.result.isError);
    expect(answers.length - refused.length, 'two ran at once, three of four waiting ones (one made room for B)').toBe(5);
    expect(refused.every((a) => a.result._meta!['pistom/error']!.code === 'queue_full')).toBe(true);
    expect(refused.filter((a) => /made room for another client/.test(a.result._meta!['pistom/error']!.message))).toHaveLength(1);
    expect(app.pistom.router.queueSize).toBe(0);
  });

  it('holds a client to admission.max_queued_per_client places when set', async () => {
    const app = await serve({ admission: { max_queue: 8, max_queued_per_client: 2 } });
    const answers = (await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: batchOf(10, () => ({ method: 'tools/call', params: { name: 'execute', arguments: slowProgram(200) } })) })).json() as Array<{ result: { isError?: boolean; _meta?: Record<string, { message: string }> } }>;
    const refused = answers.filter((a) => a.result.isError);
    expect(answers.length - refused.length, 'two running, two waiting').toBe(4);
    expect(refused.every((a) => /admission\.max_queued_per_client/.test(a.result._meta!['pistom/error']!.message))).toBe(true);
    await wellBehaved(app.url);
  });

  it('renders /metrics at most once per metrics.cache_ms however many scrape it, and serves clients meanwhile', async () => {
    sim = await startSimNode({ name: 'only' });
    const config = parseConfig({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 }, http: { port: 0 } }, 'test');
    const pistom = createPistom(config);
    let renders = 0;
    const render = cachedRender(async () => {
      renders++;
      return `# a registry of ${'x'.repeat(100_000).length} bytes\n`;
    }, 1000);
    const http = new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready, metrics: { contentType: 'text/plain', render } });
    open.push({ close: async () => (await http.close(), await pistom.close()) });
    const url = await http.listen();
    const until = Date.now() + 1500;
    let scrapes = 0;
    const scraper = async () => {
      while (Date.now() < until) {
        const res = await rawRequest(`${url}/metrics`, { method: 'GET' });
        expect(res.status).toBe(200);
        scrapes++;
      }
    };
    const flood = Promise.all(Array.from({ length: 64 }, scraper));
    await wellBehaved(url);
    await wellBehaved(url);
    await flood;
    expect(scrapes).toBeGreaterThan(64);
    // 1.5 s of scraping: the first render, then at most one per second after it.
    expect(renders).toBeLessThanOrEqual(3);
  });

  it('holds answers that clients do not read to http.max_unread_answer_bytes, never at the expense of small answers, and closes the stalled connection after http.idle_timeout_ms', async () => {
    // Answers of ~800 KB, 40 in a batch: more than the kernel's socket buffers take, so they wait in pistom.
    sim = await startSimNode({ name: 'only', slots: 64, caps: { output_max_size: 500_000 } });
    const budget = 16 * 1024 * 1024;
    const app = await serve({ http: { max_unread_answer_bytes: budget, max_answer_bytes: 64 * 1024 * 1024, idle_timeout_ms: 1500 }, nodes: [{ name: 'only', url: sim.url, max_concurrent: 64, caps: { output_max_size: 500_000 } }] });
    const bigCall = (i: number) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'execute', arguments: { language: 'python', code: 'print("y" * 390000, end="")' } } });
    // A client that sends a batch of large calls and never reads: its answers pile up unread.
    const { connect } = await import('node:net');
    const { hostname, port } = new URL(app.url);
    const stalled = connect({ host: hostname, port: Number(port), localAddress: '127.0.0.7' });
    stalled.on('error', () => undefined);
    const body = JSON.stringify(Array.from({ length: 40 }, (_, i) => bigCall(i + 1)));
    stalled.write(`POST /mcp HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    stalled.pause();
    await waitFor(() => app.http.unreadAnswerBytes > budget - 1024 * 1024, `answers to pile up unread (${app.http.unreadAnswerBytes})`);
    // Small answers still pass; a large one does not fit while the budget is held.
    await wellBehaved(app.url);
    const large = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: JSON.stringify(bigCall(99)) });
    expect(large.json().error?.message, 'a large answer while the budget is full').toMatch(/pistom already holds \d+ bytes of answers that their clients have not read \(http\.max_unread_answer_bytes/);
    expect(app.http.unreadAnswerBytes).toBeLessThanOrEqual(budget);
    // The stalled client is cut off after the idle timeout (it does not read, so it does not see it), and its bytes come back.
    await waitFor(() => app.http.connectionCount === 0, 'the stalled connection to be closed');
    await waitFor(() => app.http.unreadAnswerBytes === 0, 'the unread bytes to be released');
    stalled.destroy();
    const after = await rawRequest(`${app.url}/mcp`, { headers: MCP_HEADERS, body: JSON.stringify(bigCall(100)) });
    expect(after.json().result?.structuredContent?.run.stdout.length, 'a large answer once the budget is free').toBe(390_000);
    await waitFor(() => calls.filter((c) => c.outcome === 'undelivered').length > 0, 'the stalled calls to count as undelivered');
    expect(calls.filter((c) => c.outcome === 'ok').length).toBeLessThan(calls.length);
  });

  it('answers a modern request over the answer bound with an error carrying its id', async () => {
    const app = await serve({ http: { max_answer_bytes: 1500 } });
    const { headers, body } = modernRpc('tools/call', { name: 'execute', arguments: { language: 'python', code: `# pistom-sim: {"stdout": "${'x'.repeat(1000)}"}\nprint()` } }, 'm-1');
    const res = await rawRequest(`${app.url}/mcp`, { headers, body });
    const [answer] = messagesOf(res);
    expect(answer).toMatchObject({ id: 'm-1', error: { code: -32603, message: expect.stringMatching(/http\.max_answer_bytes/) } });
  });
});
