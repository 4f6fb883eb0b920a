/**
 * execute as a task (the tasks extension, 2026-07-28): a client that declares the extension gets a
 * task handle at once, polls tasks/get until the result is inlined, and can cancel, which stops the
 * Piston attempt. Without the extension everything stays synchronous and the task methods answer
 * -32021. Tasks belong to the caller that started them and live for tasks.ttl_ms. Raw JSON-RPC
 * over real HTTP, so every wire field is checked as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import type { CallReport } from '../../src/router.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { modernRpc, rawRequest, type LooseJson } from '../helpers/raw-http.js';
import { waitFor } from './ops-support.js';

const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
const TOKEN_A = 'task-owner-a-0123456789abcdef';
const TOKEN_B = 'task-owner-b-0123456789abcdef';
const program = (ms: number, label = 'done') => ({ language: 'python', code: `# pistom-sim: {"stdout": "${label}\\n", "wall_ms": ${ms}}\nprint("${label}")` });

describe('execute as a task', () => {
  let sim: SimNode;
  let app: InProcess;
  let authed: InProcess;
  const reports: CallReport[] = [];

  beforeAll(async () => {
    sim = await startSimNode({ name: 'only' });
    const hooks = { callFinished: (report: CallReport) => reports.push(report) };
    app = await startInProcess({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 }, tasks: { ttl_ms: 1500, poll_interval_ms: 50, max_tasks: 3 } }, { hooks });
    authed = await startInProcess({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 }, http: { auth_tokens: [TOKEN_A, TOKEN_B] } });
  });

  afterAll(async () => {
    await app?.close();
    await authed?.close();
    await sim?.close();
  });

  async function send(target: InProcess, method: string, params: Record<string, unknown>, capabilities: Record<string, unknown> = TASKS, headers: Record<string, string> = {}): Promise<{ status: number; body: LooseJson }> {
    const request = modernRpc(method, params, 7, capabilities);
    const answer = await rawRequest(`${target.url}/mcp`, { headers: { ...request.headers, ...headers }, body: request.body });
    return { status: answer.status, body: answer.json() };
  }

  const settled = (target: InProcess, taskId: string, headers: Record<string, string> = {}) =>
    waitFor(async () => {
      const { body } = await send(target, 'tasks/get', { taskId }, TASKS, headers);
      return body.result && body.result.status !== 'working' ? body.result : undefined;
    }, `task ${taskId} to settle`);

  it('advertises the extension in server/discover', async () => {
    const { body } = await send(app, 'server/discover', {});
    expect(body.result.capabilities.extensions).toHaveProperty(['io.modelcontextprotocol/tasks']);
    expect(body.result.capabilities.tasks, 'no 2025-style tasks slot').toBeUndefined();
  });

  it('answers with a task handle, then inlines the result in tasks/get', async () => {
    const { status, body } = await send(app, 'tools/call', { name: 'execute', arguments: program(300, 'from a task') });
    expect(status).toBe(200);
    const handle = body.result;
    expect(handle).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 1500, pollIntervalMs: 50 });
    expect(typeof handle.taskId).toBe('string');
    expect(handle).not.toHaveProperty('result');
    expect(Date.parse(handle.createdAt)).not.toBeNaN();
    const done = await settled(app, handle.taskId);
    expect(done.status).toBe('completed');
    expect(done.result.structuredContent.run.stdout).toBe('from a task\n');
    expect(done.result.content[0].text).toContain('from a task');
  });

  it('reports a failed run as a completed task whose result is an error, like a direct call', async () => {
    const { body } = await send(app, 'tools/call', { name: 'execute', arguments: { language: 'pyhton', code: 'print(1)' } });
    const done = await settled(app, body.result.taskId);
    expect(done.status).toBe('completed');
    expect(done.result.isError).toBe(true);
    expect(done.result._meta['pistom/error']).toMatchObject({ code: 'unknown_language' });
  });

  it('cancels: the ack is empty, the task settles cancelled and the Piston attempt stops', async () => {
    const before = reports.length;
    const { body } = await send(app, 'tools/call', { name: 'execute', arguments: program(5000) });
    const taskId = body.result.taskId as string;
    await waitFor(() => sim.stats().inFlight === 1, 'the run to start on the node');
    const cancel = await send(app, 'tasks/cancel', { taskId });
    expect(cancel.body.result).toEqual(expect.objectContaining({ resultType: 'complete' }));
    expect(cancel.body.result).not.toHaveProperty('status');
    const done = await settled(app, taskId);
    expect(done.status).toBe('cancelled');
    const again = await send(app, 'tasks/cancel', { taskId });
    expect(again.body.result, 'cancelling a settled task is an idempotent ack').toEqual(expect.objectContaining({ resultType: 'complete' }));
    const report = await waitFor(() => reports.slice(before).find((r) => r.outcome === 'cancelled'), 'the router to see the cancellation');
    expect(report.outcome).toBe('cancelled');
    await waitFor(() => sim.stats().inFlight === 0, 'the node to be free again');
  });

  it('stays synchronous for a client without the extension, whose task calls get -32021', async () => {
    const { body } = await send(app, 'tools/call', { name: 'execute', arguments: program(10, 'sync') }, {});
    expect(body.result.resultType).toBe('complete');
    expect(body.result.structuredContent.run.stdout).toBe('sync\n');
    const refused = await send(app, 'tasks/get', { taskId: 'whatever' }, {});
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ id: 7, error: { code: -32021 } });
  });

  it('keeps list_runtimes and cluster_status synchronous even with the extension', async () => {
    const { body } = await send(app, 'tools/call', { name: 'list_runtimes', arguments: {} });
    expect(body.result.resultType).toBe('complete');
    expect(Array.isArray(body.result.structuredContent.runtimes)).toBe(true);
  });

  it('answers -32602 for a task it does not know, and forgets tasks after tasks.ttl_ms', async () => {
    const unknown = await send(app, 'tasks/get', { taskId: 'no-such-task' });
    expect(unknown.body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/unknown task "no-such-task"/) });
    const { body } = await send(app, 'tools/call', { name: 'execute', arguments: program(10) });
    await settled(app, body.result.taskId);
    await waitFor(async () => (await send(app, 'tasks/get', { taskId: body.result.taskId })).body.error?.code === -32602, 'the task to expire');
  });

  it('runs without a task when tasks.max_tasks are all still working', async () => {
    const started = await Promise.all([1, 2, 3].map(() => send(app, 'tools/call', { name: 'execute', arguments: program(800) })));
    expect(started.every((s) => s.body.result.resultType === 'task')).toBe(true);
    const overflow = await send(app, 'tools/call', { name: 'execute', arguments: program(10, 'direct') });
    expect(overflow.body.result.resultType).toBe('complete');
    expect(overflow.body.result.structuredContent.run.stdout).toBe('direct\n');
    for (const s of started) await settled(app, s.body.result.taskId);
  });

  it('binds a task to the token that started it', async () => {
    const asA = { authorization: `Bearer ${TOKEN_A}` };
    const asB = { authorization: `Bearer ${TOKEN_B}` };
    const { body } = await send(authed, 'tools/call', { name: 'execute', arguments: program(2000) }, TASKS, asA);
    const taskId = body.result.taskId as string;
    const byB = await send(authed, 'tasks/cancel', { taskId }, TASKS, asB);
    expect(byB.body.error).toMatchObject({ code: -32602 });
    expect((await send(authed, 'tasks/get', { taskId }, TASKS, asB)).body.error).toMatchObject({ code: -32602 });
    expect((await send(authed, 'tasks/get', { taskId }, TASKS, asA)).body.result.status).toBe('working');
    await send(authed, 'tasks/cancel', { taskId }, TASKS, asA);
  });
});
