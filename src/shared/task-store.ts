/**
 * The task store in Redis (src/mcp/tasks/store.ts's interface): any replica answers tasks/get,
 * tasks/result and tasks/cancel for a task another replica runs.
 *
 * A task is a hash: `record` (the fixed fields as JSON), `status`, `lastUpdatedAt`, and once
 * settled `result`, `error` or `statusMessage` (JSON kept as text, never re-encoded, so a result
 * comes back byte for byte). It expires at its own expiresAt. Two sorted sets index working and
 * settled tasks by expiry, so that `tasks.max_tasks` holds for the fleet: creating a task past it
 * evicts the settled task that expires first, or refuses (the call then runs without a task).
 * Settling is one Lua call that changes only a working task, whichever replica gets there first.
 *
 * Cancellation: `requestCancel` settles the task as cancelled and publishes its id; the replica
 * that runs it aborts the attempt. After Redis comes back, this replica re-reads the tasks it runs
 * and aborts any that were cancelled meanwhile (a message it may have missed).
 *
 * With Redis unreachable, no task is created (calls run without one); a result that cannot be
 * written is kept here and written when Redis answers again, and this replica answers for it.
 */
import type { Result } from 'ioredis';
import type { TaskOutcome, TaskRecord, TaskStatus, TaskStore } from '../mcp/tasks/store.js';
import type { Logger } from '../log.js';
import type { SharedConnection } from './connection.js';
import type { SharedKeys } from './keys.js';

export interface RedisTaskStoreOptions {
  connection: SharedConnection;
  keys: SharedKeys;
  maxTasks: number;
  logger: Logger;
}

/** KEYS: working, settled, task. ARGV: record, expiresAt, now, max, task key prefix, updatedAt, id. */
const CREATE = `
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local max = tonumber(ARGV[4])
while redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= max do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then return 0 end
  redis.call('DEL', ARGV[5] .. oldest[1])
end
redis.call('HSET', KEYS[3], 'record', ARGV[1], 'status', 'working', 'lastUpdatedAt', ARGV[6])
redis.call('PEXPIREAT', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[7])
return 1`;

/** KEYS: task, working, settled. ARGV: status, updatedAt, field ('' for none), value, id. */
const SETTLE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {} end
if status == 'working' then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'lastUpdatedAt', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4]) end
  local expires = redis.call('ZSCORE', KEYS[2], ARGV[5])
  redis.call('ZREM', KEYS[2], ARGV[5])
  if expires then redis.call('ZADD', KEYS[3], expires, ARGV[5]) end
end
return redis.call('HGETALL', KEYS[1])`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    pistomTaskCreate(working: string, settled: string, task: string, record: string, expiresAt: number, now: number, max: number, taskPrefix: string, updatedAt: string, id: string): Result<number, Context>;
    pistomTaskSettle(task: string, working: string, settled: string, status: string, updatedAt: string, field: string, value: string, id: string): Result<string[], Context>;
  }
}

type FixedFields = Pick<TaskRecord, 'taskId' | 'createdAt' | 'ttlMs' | 'expiresAt' | 'owner'>;

export class RedisTaskStore implements TaskStore {
  private readonly listeners = new Set<(taskId: string, reason: string) => void>();
  /** Tasks created here and not yet settled here: re-checked for a cancellation after an outage. */
  private readonly working = new Map<string, TaskRecord>();
  /** Outcomes Redis could not take yet, written when it answers again. */
  private readonly pending = new Map<string, { outcome: TaskOutcome; record: TaskRecord }>();
  private readonly unsubscribe: () => void;
  private readonly offStateChange: () => void;

  constructor(private readonly options: RedisTaskStoreOptions) {
    const { connection, keys } = options;
    const client = connection.client;
    // An evicted task's key is built in Lua from the prefix: one Redis, not Redis Cluster.
    client.defineCommand('pistomTaskCreate', { numberOfKeys: 3, lua: CREATE });
    client.defineCommand('pistomTaskSettle', { numberOfKeys: 3, lua: SETTLE });
    this.unsubscribe = connection.subscribe(keys.taskCancelChannel, (message) => this.receiveCancel(message));
    let wasDown = false;
    this.offStateChange = connection.onStateChange((state) => {
      if (state === 'down') wasDown = true;
      if (state === 'up' && wasDown) {
        wasDown = false;
        void this.catchUp();
      }
    });
  }

  async create(record: TaskRecord): Promise<boolean> {
    const { connection, keys, maxTasks } = this.options;
    if (!connection.up) return false;
    const fixed: FixedFields = { taskId: record.taskId, createdAt: record.createdAt, ttlMs: record.ttlMs, expiresAt: record.expiresAt, ...(record.owner !== undefined ? { owner: record.owner } : {}) };
    try {
      const created = await connection.client.pistomTaskCreate(keys.tasksWorking, keys.tasksSettled, keys.task(record.taskId), JSON.stringify(fixed), record.expiresAt, Date.now(), maxTasks, keys.task(''), record.lastUpdatedAt, record.taskId);
      if (created === 1) this.working.set(record.taskId, structuredClone(record));
      return created === 1;
    } catch (error) {
      connection.failed(error);
      return false;
    }
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const pending = this.pending.get(taskId);
    if (pending) return pending.record.expiresAt > Date.now() ? structuredClone(pending.record) : undefined;
    const { connection, keys } = this.options;
    try {
      return toRecord(await connection.client.hgetall(keys.task(taskId)));
    } catch (error) {
      connection.failed(error);
      throw new Error('the task store (Redis) is unreachable right now; retry in a few seconds', { cause: error });
    }
  }

  async settle(taskId: string, outcome: TaskOutcome): Promise<TaskRecord | undefined> {
    const { connection, keys } = this.options;
    const [field, value] = outcomeField(outcome);
    const updatedAt = new Date().toISOString();
    try {
      const fields = await connection.client.pistomTaskSettle(keys.task(taskId), keys.tasksWorking, keys.tasksSettled, outcome.status, updatedAt, field, value, taskId);
      this.working.delete(taskId);
      return toRecord(pairs(fields));
    } catch (error) {
      connection.failed(error);
      if (!this.working.has(taskId)) throw new Error('the task store (Redis) is unreachable right now; retry in a few seconds', { cause: error });
      if (this.pending.has(taskId)) return structuredClone(this.pending.get(taskId)!.record);
      // This replica runs the task: keep its outcome and answer for it until Redis takes it.
      const record = settledCopy(this.working.get(taskId)!, outcome, updatedAt);
      this.pending.set(taskId, { outcome, record });
      this.working.delete(taskId);
      this.options.logger.warn({ task_id: taskId }, 'Redis is unreachable: the task result is kept in this process until Redis answers again');
      return structuredClone(record);
    }
  }

  async requestCancel(taskId: string, reason: string): Promise<TaskRecord | undefined> {
    const record = await this.settle(taskId, { status: 'cancelled', statusMessage: reason });
    if (!record) return undefined;
    const { connection, keys } = this.options;
    // This replica may run the task itself: no need to wait for the message to come back.
    this.notify(taskId, reason);
    try {
      await connection.client.publish(keys.taskCancelChannel, JSON.stringify({ taskId, reason }));
    } catch (error) {
      connection.failed(error);
    }
    return record;
  }

  onCancelRequested(listener: (taskId: string, reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.offStateChange();
    this.listeners.clear();
  }

  private notify(taskId: string, reason: string): void {
    // Settled (cancelled) in Redis already: the runner aborts and will not settle it again.
    this.working.delete(taskId);
    for (const listener of this.listeners) listener(taskId, reason);
  }

  private receiveCancel(message: string): void {
    try {
      const { taskId, reason } = JSON.parse(message) as { taskId?: unknown; reason?: unknown };
      if (typeof taskId === 'string') this.notify(taskId, typeof reason === 'string' ? reason : 'cancelled');
    } catch {
      // not ours
    }
  }

  /** After an outage: write kept results, and abort tasks cancelled while messages could not arrive. */
  private async catchUp(): Promise<void> {
    for (const [taskId, { outcome, record }] of [...this.pending]) {
      try {
        this.working.set(taskId, record);
        // A Redis that restarted empty no longer knows the task: write it again, then its outcome.
        if (!(await this.settle(taskId, outcome)) && record.expiresAt > Date.now() && (await this.create(record))) await this.settle(taskId, outcome);
        this.pending.delete(taskId);
      } catch {
        return;
      }
    }
    for (const taskId of [...this.working.keys()]) {
      try {
        const status = await this.options.connection.client.hget(this.options.keys.task(taskId), 'status');
        if (status === 'cancelled') this.notify(taskId, 'cancelled while this replica could not reach Redis');
      } catch {
        return;
      }
    }
  }
}

function settledCopy(working: TaskRecord, outcome: TaskOutcome, updatedAt: string): TaskRecord {
  const record: TaskRecord = { ...structuredClone(working), status: outcome.status, lastUpdatedAt: updatedAt };
  if (outcome.status === 'completed') record.result = outcome.result;
  else if (outcome.status === 'failed') record.error = outcome.error;
  else if (outcome.statusMessage) record.statusMessage = outcome.statusMessage;
  return record;
}

function outcomeField(outcome: TaskOutcome): [string, string] {
  if (outcome.status === 'completed') return ['result', JSON.stringify(outcome.result)];
  if (outcome.status === 'failed') return ['error', JSON.stringify(outcome.error)];
  return outcome.statusMessage ? ['statusMessage', outcome.statusMessage] : ['', ''];
}

function pairs(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

function toRecord(fields: Record<string, string>): TaskRecord | undefined {
  if (!fields.record || !fields.status) return undefined;
  const fixed = JSON.parse(fields.record) as FixedFields;
  if (fixed.expiresAt <= Date.now()) return undefined;
  const record: TaskRecord = { ...fixed, status: fields.status as TaskStatus, lastUpdatedAt: fields.lastUpdatedAt ?? fixed.createdAt };
  if (fields.statusMessage) record.statusMessage = fields.statusMessage;
  if (fields.result) record.result = JSON.parse(fields.result) as Record<string, unknown>;
  if (fields.error) record.error = JSON.parse(fields.error) as TaskRecord['error'];
  return record;
}
