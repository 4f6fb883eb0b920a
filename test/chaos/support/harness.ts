/**
 * What every chaos case needs: process listeners that catch unhandled rejections and uncaught
 * exceptions, an SDK client that counts the answers it receives per JSON-RPC request id, and a
 * way to wait until the cluster serves again once a fault is cleared.
 */
import { expect } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { connectHttp, type ToolResult } from '../../helpers/pistom.js';
import { load } from '../../helpers/inprocess.js';
import { HELLO } from '../../helpers/programs.js';

/** Records unhandled rejections and uncaught exceptions while installed. */
export class CrashWatch {
  readonly events: string[] = [];
  private readonly onRejection = (reason: unknown): void => {
    this.events.push(`unhandledRejection: ${(reason as Error)?.stack ?? String(reason)}`);
  };
  private readonly onException = (error: Error): void => {
    this.events.push(`uncaughtException: ${error.stack ?? String(error)}`);
  };

  install(): this {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
    return this;
  }

  uninstall(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
  }
}

export interface CallTally {
  /** Requests sent, by id. */
  sent: number;
  /** Ids answered zero times or more than once. */
  lost: number;
}

/** The SDK's real Client over Streamable HTTP, counting answers per request id on the wire. */
export interface CountingClient {
  call(args: Record<string, unknown>, tool?: string): Promise<ToolResult>;
  tally(): CallTally;
  close(): Promise<void>;
}

export async function connectCounting(url: string, headers: Record<string, string> = {}): Promise<CountingClient> {
  const connected = await connectHttp(url, headers);
  const transport = connected.transport;
  const answers = new Map<string | number, number>();
  const originalSend = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage, options?: Parameters<typeof originalSend>[1]) => {
    const id = 'method' in message && 'id' in message && message.method === 'tools/call' ? message.id : undefined;
    if (id !== undefined) answers.set(id, answers.get(id) ?? 0);
    try {
      return await originalSend(message, options);
    } catch (error) {
      // Refused at the HTTP level (e.g. 400, 413, 429): the caller got its one answer, an error.
      if (id !== undefined) answers.set(id, answers.get(id)! + 1);
      throw error;
    }
  };
  const originalReceive = transport.onmessage!;
  transport.onmessage = (message: JSONRPCMessage, extra?: Parameters<typeof originalReceive>[1]) => {
    const id = 'id' in message ? message.id : undefined;
    if (id !== undefined && ('result' in message || 'error' in message) && answers.has(id)) answers.set(id, answers.get(id)! + 1);
    originalReceive(message, extra);
  };
  return {
    call: (args, tool = 'execute') => connected.call(tool, args),
    tally: () => ({ sent: answers.size, lost: [...answers.values()].filter((count) => count !== 1).length }),
    close: () => connected.close(),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { HELLO };

/** Runs `count` execute calls, `concurrency` at a time; every one must resolve with a result. */
export async function callMany(client: CountingClient, count: number, concurrency: number, args: (index: number) => Record<string, unknown> = () => HELLO, onProgress?: (done: number) => void): Promise<ToolResult[]> {
  const settled = await load(count, concurrency, (index) => client.call(args(index)), onProgress);
  const rejected = settled.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  expect(rejected, 'every call resolves with a tool result').toEqual([]);
  return settled.map((r) => (r as PromiseFulfilledResult<ToolResult>).value);
}

/** An error result must say what happened: a class, a code and a message that suggests what to do. */
export function expectClearErrors(results: ToolResult[]): void {
  for (const result of results.filter((r) => r.isError)) {
    const error = result._meta?.['pistom/error'];
    expect(error, 'an error result carries _meta["pistom/error"]').toBeDefined();
    expect(['overload', 'node_fault', 'request_error']).toContain(error.class);
    expect(error.message.length).toBeGreaterThan(10);
    expect(result.content[0]!.text).toBe(error.message);
  }
}

/**
 * Waits until a batch of calls all succeed (and, if `node` is given, that node served some of
 * them again); returns the calls made. Bounded: gives up after `rounds` batches.
 */
export async function recovered(client: CountingClient, options: { node?: string; batch?: number; rounds?: number; args?: Record<string, unknown> } = {}): Promise<{ ok: boolean; calls: number }> {
  const batch = options.batch ?? 12;
  let calls = 0;
  for (let round = 0; round < (options.rounds ?? 30); round++) {
    const results = await callMany(client, batch, 4, () => options.args ?? HELLO);
    calls += batch;
    const allOk = results.every((r) => !r.isError);
    const nodeBack = options.node === undefined || results.some((r) => r.structuredContent?.node === options.node);
    if (allOk && nodeBack) return { ok: true, calls };
    await sleep(250);
  }
  return { ok: false, calls };
}
