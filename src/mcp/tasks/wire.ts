/**
 * The tasks extension on the 2026-07-28 wire (SEP-2663): the shapes of CreateTaskResult and
 * DetailedTask, and the tasks/get, tasks/update and tasks/cancel handlers, each refused with
 * -32021 to a request whose capabilities do not declare the extension.
 */
import { MissingRequiredClientCapabilityError, ProtocolError, ProtocolErrorCode, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { CLIENT_CAPABILITIES_META_KEY, TASKS_EXTENSION } from '../protocol.js';
import { authenticatedCaller } from '../caller.js';
import type { TaskService } from './service.js';
import type { TaskRecord } from './store.js';

/** True when this request's own capabilities (its `_meta` envelope) declare the tasks extension. */
export function negotiatedTasks(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
  return capabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
}

/** The key a task is bound to: the authenticated caller, when there is one. */
export function taskOwner(ctx: ServerContext): string | undefined {
  return authenticatedCaller(ctx);
}

function taskFields(record: TaskRecord, pollIntervalMs: number) {
  return {
    taskId: record.taskId,
    status: record.status,
    ...(record.statusMessage !== undefined ? { statusMessage: record.statusMessage } : {}),
    createdAt: record.createdAt,
    lastUpdatedAt: record.lastUpdatedAt,
    ttlMs: record.ttlMs,
    pollIntervalMs,
  };
}

/** The answer to a tools/call that became a task: flat, with no result or error yet. */
export function createTaskResult(record: TaskRecord, pollIntervalMs: number): Record<string, unknown> {
  return { resultType: 'task', ...taskFields(record, pollIntervalMs) };
}

/** tasks/get: the task with its inlined result (completed) or error (failed). */
export function detailedTask(record: TaskRecord, pollIntervalMs: number): Record<string, unknown> {
  return {
    ...taskFields(record, pollIntervalMs),
    ...(record.status === 'completed' && record.result ? { result: record.result } : {}),
    ...(record.status === 'failed' && record.error ? { error: record.error } : {}),
  };
}

const TaskIdParams = z.looseObject({ taskId: z.string({ error: 'taskId must be a string' }) });

function requireTasks(ctx: ServerContext): void {
  if (!negotiatedTasks(ctx)) throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } } as never);
}

function unknownTask(taskId: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown task "${taskId}": it never existed, belongs to another caller, or expired (tasks are kept for tasks.ttl_ms)`);
}

/** Registers the task methods on a server that serves the 2026-07-28 era. */
export function registerTaskMethods(server: McpServer, tasks: TaskService): void {
  const poll = tasks.options.pollIntervalMs;
  server.server.setRequestHandler('tasks/get', { params: TaskIdParams }, async (params, ctx) => {
    requireTasks(ctx);
    const record = await tasks.get(params.taskId, taskOwner(ctx));
    if (!record) throw unknownTask(params.taskId);
    return detailedTask(record, poll);
  });
  server.server.setRequestHandler('tasks/cancel', { params: TaskIdParams }, async (params, ctx) => {
    requireTasks(ctx);
    if (!(await tasks.cancel(params.taskId, taskOwner(ctx)))) throw unknownTask(params.taskId);
    return {};
  });
  // pistom's tasks never ask the client for input, so an update only has to name a known task.
  server.server.setRequestHandler('tasks/update', { params: TaskIdParams }, async (params, ctx) => {
    requireTasks(ctx);
    if (!(await tasks.get(params.taskId, taskOwner(ctx)))) throw unknownTask(params.taskId);
    return {};
  });
}
