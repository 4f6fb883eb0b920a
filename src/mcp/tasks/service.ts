/**
 * Runs tool calls as tasks: creates the record, runs the call with an AbortSignal of its own
 * (not the HTTP exchange's, which ends as soon as the task handle is sent), settles the record
 * with the result, and aborts the call when a cancellation for it is announced by the store, from
 * whichever replica received `tasks/cancel`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { RPC } from '../protocol.js';
import type { TaskRecord, TaskStore } from './store.js';

export interface TaskServiceOptions {
  ttlMs: number;
  pollIntervalMs: number;
  /** Largest serialized result kept; a larger one settles the task as failed, saying so. */
  maxResultBytes: number;
  logger?: Logger;
}

/** What a tool call run as a task produces: a CallToolResult, or a protocol-level error. */
export type TaskWork = (signal: AbortSignal) => Promise<Record<string, unknown>>;

export class TaskService {
  private readonly running = new Map<string, AbortController>();
  private readonly unsubscribe: () => void;
  private readonly logger: Logger;

  constructor(
    readonly store: TaskStore,
    readonly options: TaskServiceOptions,
  ) {
    this.logger = options.logger ?? silentLogger();
    this.unsubscribe = store.onCancelRequested((taskId, reason) => this.running.get(taskId)?.abort(new Error(reason)));
  }

  /** Tasks this process is running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Starts `work` as a task; undefined when the store is full (the caller runs it directly). */
  async start(work: TaskWork, owner?: string): Promise<TaskRecord | undefined> {
    const now = Date.now();
    const record: TaskRecord = {
      taskId: randomUUID(),
      status: 'working',
      createdAt: new Date(now).toISOString(),
      lastUpdatedAt: new Date(now).toISOString(),
      ttlMs: this.options.ttlMs,
      expiresAt: now + this.options.ttlMs,
      ...(owner !== undefined ? { owner } : {}),
    };
    if (!(await this.store.create(record))) return undefined;
    const controller = new AbortController();
    this.running.set(record.taskId, controller);
    void this.run(record.taskId, work, controller);
    return record;
  }

  /** The task if it exists and belongs to this caller. */
  async get(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const record = await this.store.get(taskId);
    return record && record.owner === owner ? record : undefined;
  }

  /** Cancels a working task (a settled one is left as it is); undefined when unknown to this caller. */
  async cancel(taskId: string, owner?: string): Promise<TaskRecord | undefined> {
    const record = await this.get(taskId, owner);
    if (!record) return undefined;
    if (record.status !== 'working') return record;
    return this.store.requestCancel(taskId, 'cancelled by the client (tasks/cancel)');
  }

  private async run(taskId: string, work: TaskWork, controller: AbortController): Promise<void> {
    try {
      const result = await work(controller.signal);
      if (controller.signal.aborted) return;
      const bytes = Buffer.byteLength(JSON.stringify(result));
      if (bytes > this.options.maxResultBytes) {
        await this.store.settle(taskId, { status: 'failed', error: { code: RPC.internalError, message: `the result is ${bytes} bytes, more than tasks keep (tasks.max_result_bytes = ${this.options.maxResultBytes}); run the call without a task or make its output smaller` } });
        return;
      }
      await this.store.settle(taskId, { status: 'completed', result });
    } catch (error) {
      if (controller.signal.aborted) return;
      this.logger.warn({ err: error, task_id: taskId }, 'task failed with a protocol error');
      await this.store.settle(taskId, { status: 'failed', error: { code: RPC.internalError, message: (error as Error)?.message ?? String(error) } }).catch(() => undefined);
    } finally {
      this.running.delete(taskId);
    }
  }

  /** Aborts every task this process runs (they settle as cancelled) and stops listening. */
  async close(): Promise<void> {
    this.unsubscribe();
    const ids = [...this.running.keys()];
    for (const id of ids) {
      this.running.get(id)?.abort(new Error('pistom is shutting down'));
      await this.store.settle(id, { status: 'cancelled', statusMessage: 'pistom shut down before the task finished' }).catch(() => undefined);
    }
    this.running.clear();
  }
}
