/**
 * The task store and service without any transport: bounds, settling rules, and cancellation that
 * reaches the process running a task when another process (another TaskService on the same store,
 * as replicas on a shared store would be) receives tasks/cancel.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTaskStore, type TaskRecord } from '../../src/mcp/tasks/store.js';
import { TaskService } from '../../src/mcp/tasks/service.js';

const options = { ttlMs: 60_000, pollIntervalMs: 100, maxResultBytes: 1000 };
const record = (taskId: string, status: TaskRecord['status'] = 'working', expiresAt = Date.now() + 60_000): TaskRecord => ({ taskId, status, createdAt: '', lastUpdatedAt: '', ttlMs: 60_000, expiresAt });

function until(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

describe('tasks', () => {
  it('a cancel received by one replica aborts the work running on another', async () => {
    const store = new MemoryTaskStore({ maxTasks: 10 });
    const replicaA = new TaskService(store, options);
    const replicaB = new TaskService(store, options);
    let aborted = false;
    const task = await replicaA.start(async (signal) => {
      await until(signal).catch(() => (aborted = true));
      return {};
    });
    expect(replicaA.runningCount).toBe(1);
    await replicaB.cancel(task!.taskId);
    expect(aborted).toBe(true);
    expect((await store.get(task!.taskId))!.status).toBe('cancelled');
    await replicaA.close();
    await replicaB.close();
  });

  it('settles once: a result arriving after a cancel does not overwrite it', async () => {
    const store = new MemoryTaskStore({ maxTasks: 10 });
    await store.create(record('t1'));
    await store.requestCancel('t1', 'stop');
    const after = await store.settle('t1', { status: 'completed', result: { content: [] } });
    expect(after).toMatchObject({ status: 'cancelled', statusMessage: 'stop' });
    expect(after).not.toHaveProperty('result');
  });

  it('fails a task whose result is larger than max_result_bytes, saying so', async () => {
    const service = new TaskService(new MemoryTaskStore({ maxTasks: 10 }), options);
    const task = await service.start(async () => ({ content: [{ type: 'text', text: 'x'.repeat(5000) }] }));
    await new Promise((resolve) => setImmediate(resolve));
    const settled = await service.get(task!.taskId);
    expect(settled).toMatchObject({ status: 'failed', error: { code: -32603, message: expect.stringMatching(/max_result_bytes/) } });
    await service.close();
  });

  it('keeps at most maxTasks: expired and settled ones make room, working ones do not', async () => {
    const store = new MemoryTaskStore({ maxTasks: 2 });
    expect(await store.create(record('old', 'completed'))).toBe(true);
    expect(await store.create(record('busy'))).toBe(true);
    expect(await store.create(record('new'))).toBe(true);
    expect(await store.get('old')).toBeUndefined();
    expect(await store.create(record('refused'))).toBe(false);
    expect(await store.get('expired-never-stored')).toBeUndefined();
  });

  it('forgets a task after its expiry and returns copies, never its own records', async () => {
    let now = 1000;
    const store = new MemoryTaskStore({ maxTasks: 5, now: () => now });
    await store.create(record('t', 'working', 2000));
    const copy = (await store.get('t'))!;
    copy.status = 'failed';
    expect((await store.get('t'))!.status).toBe('working');
    now = 2000;
    expect(await store.get('t')).toBeUndefined();
  });

  it('hides a task from a caller who did not start it', async () => {
    const service = new TaskService(new MemoryTaskStore({ maxTasks: 5 }), options);
    const task = await service.start(async () => ({ content: [] }), 'owner-a');
    expect(await service.get(task!.taskId, 'owner-b')).toBeUndefined();
    expect(await service.cancel(task!.taskId, 'owner-b')).toBeUndefined();
    expect(await service.get(task!.taskId, 'owner-a')).toBeDefined();
    await service.close();
  });
});
