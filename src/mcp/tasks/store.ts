/**
 * Where tasks live: a small asynchronous interface whose records are plain JSON, so that a shared
 * store (Redis, issue 12) can replace the in-memory one without touching the MCP layer.
 *
 * Cancellation across processes: the replica that runs a task holds its AbortController; the
 * replica that receives `tasks/cancel` may be another one. `requestCancel` therefore both marks the
 * record and announces the cancellation on the store's own channel; every replica listens with
 * `onCancelRequested` and aborts the attempt if it is the one running it. In memory the
 * announcement is a direct call; a Redis store would publish it (and re-check the record on
 * start-up, for an announcement missed while a replica was reconnecting).
 */

export type TaskStatus = 'working' | 'completed' | 'failed' | 'cancelled';

/** A JSON-RPC error as a failed task carries it. */
export interface TaskError {
  code: number;
  message: string;
  data?: unknown;
}

/** One task, as stored: every field is JSON. */
export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  /** ISO 8601. */
  createdAt: string;
  lastUpdatedAt: string;
  /** How long the task stays readable after it was created. */
  ttlMs: number;
  /** Epoch ms after which the store may forget the task (createdAt + ttlMs). */
  expiresAt: number;
  /** A non-secret key of the caller that started it (a token digest); absent when callers are anonymous. */
  owner?: string;
  /** The tool's result (CallToolResult), once completed. */
  result?: Record<string, unknown>;
  /** The protocol-level error, once failed. */
  error?: TaskError;
}

export type TaskOutcome = { status: 'completed'; result: Record<string, unknown> } | { status: 'failed'; error: TaskError } | { status: 'cancelled'; statusMessage?: string };

export interface TaskStore {
  /**
   * Stores a new working task. Resolves false when the store is full of unexpired working tasks
   * (the caller then runs the call without a task).
   */
  create(record: TaskRecord): Promise<boolean>;
  /** The task, or undefined when unknown or expired. */
  get(taskId: string): Promise<TaskRecord | undefined>;
  /** Settles a working task; a task already settled (e.g. cancelled) keeps its state. Resolves the record as it now is. */
  settle(taskId: string, outcome: TaskOutcome): Promise<TaskRecord | undefined>;
  /** Marks a working task cancelled and announces it to every listener (every replica). */
  requestCancel(taskId: string, reason: string): Promise<TaskRecord | undefined>;
  /** Listens for cancellations announced by requestCancel, from this process or another. */
  onCancelRequested(listener: (taskId: string, reason: string) => void): () => void;
  close(): Promise<void>;
}

export interface MemoryTaskStoreOptions {
  /** Tasks kept at most; expired ones go first, then the oldest settled ones. */
  maxTasks: number;
  now?: () => number;
}

/** One process's tasks in a Map, bounded in count; each record also bounded in time by its expiresAt. */
export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly listeners = new Set<(taskId: string, reason: string) => void>();
  private readonly now: () => number;

  constructor(private readonly options: MemoryTaskStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.tasks.size;
  }

  async create(record: TaskRecord): Promise<boolean> {
    if (this.tasks.size >= this.options.maxTasks) this.makeRoom();
    if (this.tasks.size >= this.options.maxTasks) return false;
    this.tasks.set(record.taskId, structuredClone(record));
    return true;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const record = this.tasks.get(taskId);
    if (!record) return undefined;
    if (record.expiresAt <= this.now()) {
      this.tasks.delete(taskId);
      return undefined;
    }
    return structuredClone(record);
  }

  async settle(taskId: string, outcome: TaskOutcome): Promise<TaskRecord | undefined> {
    const record = this.tasks.get(taskId);
    if (!record) return undefined;
    if (record.status === 'working') {
      record.status = outcome.status;
      record.lastUpdatedAt = new Date(this.now()).toISOString();
      if (outcome.status === 'completed') record.result = outcome.result;
      else if (outcome.status === 'failed') record.error = outcome.error;
      else if (outcome.statusMessage) record.statusMessage = outcome.statusMessage;
    }
    return structuredClone(record);
  }

  async requestCancel(taskId: string, reason: string): Promise<TaskRecord | undefined> {
    const record = await this.settle(taskId, { status: 'cancelled', statusMessage: reason });
    if (record) for (const listener of this.listeners) listener(taskId, reason);
    return record;
  }

  onCancelRequested(listener: (taskId: string, reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.tasks.clear();
  }

  private makeRoom(): void {
    const now = this.now();
    for (const [id, record] of this.tasks) if (record.expiresAt <= now) this.tasks.delete(id);
    // Map order is insertion order: the first settled ones are the oldest.
    for (const [id, record] of this.tasks) {
      if (this.tasks.size < this.options.maxTasks) return;
      if (record.status !== 'working') this.tasks.delete(id);
    }
  }
}
