/**
 * One stateless Streamable HTTP exchange (a POST to /mcp), in either era: validates the JSON-RPC
 * messages, feeds them to the era's multiplexing transport, and answers as JSON, or as an SSE
 * stream when the client asked for progress (notifications need a stream). Everything about a
 * request (its answer, progress, cancellation) stays inside its exchange: closing the exchange is
 * how an HTTP client cancels, and a cancellation can only name a request of the same exchange.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import { asJsonRpcMessage, idOf, NOT_A_JSON_RPC_MESSAGE } from './jsonrpc.js';
import type { ExchangeSink, MultiplexTransport } from './mux-transport.js';
import type { FastToolCalls } from './fast-call.js';
import type { Logger } from '../../log.js';
import { RPC, modernErrorStatus, sendRpcError } from './respond.js';

type IncomingRequest = JSONRPCMessage & { id: RequestId; method: string; params?: { _meta?: { progressToken?: unknown } } };
type IncomingNotification = JSONRPCMessage & { method: string; params?: Record<string, unknown> };

function isRequest(message: JSONRPCMessage): message is IncomingRequest {
  return 'method' in message && 'id' in message;
}

function isNotification(message: JSONRPCMessage): message is IncomingNotification {
  return 'method' in message && !('id' in message);
}

function wantsStream(req: IncomingMessage, requests: IncomingRequest[]): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/event-stream') && requests.some((r) => r.params?._meta?.progressToken !== undefined);
}

/**
 * The answers of one exchange, written as they come and bounded: each answer is serialized on its
 * own, and one that would take the exchange past `maxAnswerBytes`, or the whole front past
 * `unread.max` bytes of answers not yet handed to the OS (clients that do not read; each exchange's
 * first FREE_UNREAD_BYTES do not count), is replaced by a small error that says so. A batch is streamed as a JSON array (chunked), so nothing holds every
 * answer at once. Each answer's delivery is reported once the response finished, or failed to.
 */
/** Bytes of every exchange that do not count against http.max_unread_answer_bytes (one usual answer, and then some). */
export const FREE_UNREAD_BYTES = 64 * 1024;

class Exchange implements ExchangeSink {
  private readonly waiting = new Set<RequestId>();
  private readonly settles: Array<(delivered: boolean) => void> = [];
  private single: string | undefined;
  private written = 0;
  private bytes = 0;
  private released = false;
  private finished = false;
  private status = 200;

  constructor(
    private readonly res: ServerResponse,
    private readonly stream: boolean,
    private readonly batch: boolean,
    private readonly modern: boolean,
    private readonly bounds: AnswerBounds,
  ) {
    // 'finish': every byte went to the OS (settled before the client can act on the answer); 'close' without it: lost.
    res.once('finish', () => {
      this.release();
      this.settle(true);
    });
    res.once('close', () => {
      this.release();
      if (res.writableFinished) return;
      if (this.settles.length > 0) this.bounds.logger.warn({ answers: this.settles.length, written_bytes: this.bytes }, 'answers not delivered: the HTTP connection closed before the response was complete');
      this.settle(false);
    });
    res.once('error', (error) => this.bounds.logger.warn({ err: error }, 'writing an answer failed'));
  }

  expect(id: RequestId): void {
    this.waiting.add(id);
  }

  private settle(delivered: boolean): void {
    for (const settle of this.settles.splice(0)) settle(delivered);
  }

  /** Gives this exchange's bytes back to the front's unread budget (once). */
  private release(): void {
    if (this.released) return;
    this.bounds.unread.held -= Math.max(0, this.bytes - FREE_UNREAD_BYTES);
    this.released = true;
  }

  begin(): void {
    if (!this.stream) return;
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.res.flushHeaders();
  }

  notify(message: JSONRPCMessage): void {
    if (!this.stream || this.finished) return;
    const text = JSON.stringify(message);
    if (this.fits(text) === undefined) this.res.write(`event: message\ndata: ${text}\n\n`);
  }

  respond(message: JSONRPCMessage, early: boolean, settle?: (delivered: boolean) => void): void {
    const id = (message as { id: RequestId }).id;
    if (this.finished || !this.waiting.delete(id)) {
      settle?.(false);
      return;
    }
    const { text, error } = this.encode(message, id, settle);
    if (this.stream) this.res.write(`event: message\ndata: ${text}\n\n`);
    else if (this.batch) {
      if (this.written === 0) this.res.writeHead(200, { 'content-type': 'application/json' });
      this.res.write(this.written === 0 ? `[${text}` : `,${text}`);
    } else {
      this.single = text;
      if (this.modern && error) this.status = modernErrorStatus(error.code, early);
    }
    this.written++;
    if (this.waiting.size === 0) this.finish();
  }

  /** The answer as JSON text within the bound, or the error that replaces it; `settle` is kept only for an answer sent as it was. */
  private encode(message: JSONRPCMessage, id: RequestId, settle: ((delivered: boolean) => void) | undefined): { text: string; error?: { code: number } } {
    let text: string | undefined;
    try {
      text = JSON.stringify(message);
    } catch (error) {
      this.bounds.logger.error({ err: error, rpc_id: id }, 'an answer could not be serialized');
    }
    const refusal = text === undefined ? 'exchange' : this.fits(text);
    if (refusal === undefined) {
      if (settle) this.settles.push(settle);
      return { text: text!, error: (message as { error?: { code: number } }).error };
    }
    settle?.(false);
    const size = text === undefined ? 'too large to serialize' : `${Buffer.byteLength(text)} bytes`;
    const { maxAnswerBytes, unread } = this.bounds;
    this.bounds.logger.warn({ rpc_id: id, size, bound: refusal === 'exchange' ? 'http.max_answer_bytes' : 'http.max_unread_answer_bytes' }, 'an answer over a bound was replaced by an error');
    const why =
      refusal === 'exchange'
        ? `would take this HTTP response past http.max_answer_bytes (${maxAnswerBytes} bytes); ask for less output, or send fewer calls per request`
        : `does not fit: pistom already holds ${unread.held} bytes of answers that their clients have not read (http.max_unread_answer_bytes, ${unread.max}); retry shortly`;
    const error = { code: RPC.internalError, message: `Internal error: the answer (${size}) ${why}` };
    const replacement = JSON.stringify({ jsonrpc: '2.0', id, error });
    this.count(replacement.length);
    return { text: replacement, error };
  }

  /**
   * Counts `text` against both bounds if it fits, else says which it would pass. A string's length
   * bounds its UTF-8 size from below and a third of it from above.
   */
  private fits(text: string): 'exchange' | 'unread' | undefined {
    const room = this.bounds.maxAnswerBytes - this.bytes;
    const size = text.length * 3 <= room ? text.length : Buffer.byteLength(text);
    if (size > room) return 'exchange';
    // Each exchange's first FREE_UNREAD_BYTES are its own: clients that do not read can fill the
    // shared budget, but not crowd out the small answers of everyone else.
    const shared = Math.max(0, this.bytes + size - FREE_UNREAD_BYTES) - Math.max(0, this.bytes - FREE_UNREAD_BYTES);
    if (shared > 0 && this.bounds.unread.held + shared > this.bounds.unread.max) return 'unread';
    this.count(size);
    return undefined;
  }

  private count(size: number): void {
    if (this.released) return;
    const shared = Math.max(0, this.bytes + size - FREE_UNREAD_BYTES) - Math.max(0, this.bytes - FREE_UNREAD_BYTES);
    this.bytes += size;
    this.bounds.unread.held += shared;
  }

  private finish(): void {
    this.finished = true;
    if (this.stream) this.res.end();
    else if (this.batch) this.res.end(']');
    else if (!this.res.headersSent) {
      const text = this.single!;
      this.res.writeHead(this.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      this.res.end(text);
    }
  }

  get done(): boolean {
    return this.finished;
  }
}

/** Bytes of answers the whole front holds for clients that have not read them yet, and the most it may. */
export interface UnreadAnswers {
  held: number;
  readonly max: number;
}

export interface AnswerBounds {
  maxAnswerBytes: number;
  unread: UnreadAnswers;
  logger: Logger;
}

export interface StatelessPost {
  transport: MultiplexTransport;
  /** Answers plain tools/call requests itself (fast-call.ts); everything else goes to the transport. */
  fast?: FastToolCalls;
  req: IncomingMessage;
  res: ServerResponse;
  /** The parsed body: one message, or a batch (2025 era only). */
  body: unknown;
  authInfo?: AuthInfo;
  bounds: AnswerBounds;
}

export function handleStatelessPost({ transport, fast, req, res, body, authInfo, bounds }: StatelessPost): void {
  const batch = Array.isArray(body);
  const items: unknown[] = batch ? (body as unknown[]) : [body];
  if (items.length === 0) {
    sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: an empty batch');
    return;
  }
  const messages: JSONRPCMessage[] = [];
  for (const [index, item] of items.entries()) {
    const message = asJsonRpcMessage(item);
    if (!message) {
      sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request${batch ? ` at batch index ${index}` : ''}: ${NOT_A_JSON_RPC_MESSAGE}`, {}, batch ? null : idOf(item));
      return;
    }
    messages.push(message);
  }
  const requests = messages.filter(isRequest);
  if (new Set(requests.map((request) => request.id)).size !== requests.length) {
    sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: two requests in one batch share an id; each needs its own so that each gets its own answer');
    return;
  }
  const ownIds = new Map<RequestId, number>();
  if (requests.length === 0) {
    for (const message of messages) if (isNotification(message)) transport.dispatchNotification(message, ownIds, authInfo);
    res.writeHead(202).end();
    return;
  }
  const exchange = new Exchange(res, wantsStream(req, requests), batch, transport.era === 'modern', bounds);
  for (const request of requests) exchange.expect(request.id);
  exchange.begin();
  // Calls on the fast path, by their original id: how a cancellation or a disconnect reaches them.
  const fastCancels = new Map<RequestId, (reason: string) => void>();
  res.on('close', () => {
    if (exchange.done) return;
    for (const id of ownIds.values()) transport.cancel(id, 'the HTTP client disconnected');
    for (const cancel of fastCancels.values()) cancel('the HTTP client disconnected');
  });
  for (const message of messages) {
    if (isRequest(message)) {
      const tool = fast?.match(message);
      if (tool) fastCancels.set(message.id, fast!.run(message, tool, exchange, authInfo?.clientId));
      else if (fast?.isPlainToolList(message)) {
        if (!fast.listTools(message, exchange)) ownIds.set(message.id, transport.dispatchRequest(exchange, message, authInfo, fast.keepToolList));
      } else ownIds.set(message.id, transport.dispatchRequest(exchange, message, authInfo));
    } else if (isNotification(message)) {
      const cancelFast = message.method === 'notifications/cancelled' ? fastCancels.get(message.params?.requestId as RequestId) : undefined;
      if (cancelFast) cancelFast(typeof message.params?.reason === 'string' ? message.params.reason : 'cancelled by the client');
      else transport.dispatchNotification(message, ownIds, authInfo);
    }
  }
}
