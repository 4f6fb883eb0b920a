/**
 * One stateless Streamable HTTP exchange (a POST to /mcp), in either era: validates the JSON-RPC
 * messages, feeds them to the era's multiplexing transport, and answers as JSON, or as an SSE
 * stream when the client asked for progress (notifications need a stream). Everything about a
 * request (its answer, progress, cancellation) stays inside its exchange: closing the exchange is
 * how an HTTP client cancels, and a cancellation can only name a request of the same exchange.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import { asJsonRpcMessage } from './jsonrpc.js';
import type { ExchangeSink, MultiplexTransport } from './mux-transport.js';
import { RPC, modernErrorStatus, sendJson, sendRpcError } from './respond.js';

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

class Exchange implements ExchangeSink {
  private readonly waiting = new Set<RequestId>();
  private readonly answers: JSONRPCMessage[] = [];
  private finished = false;
  private status = 200;

  constructor(
    private readonly res: ServerResponse,
    private readonly stream: boolean,
    private readonly batch: boolean,
    private readonly modern: boolean,
  ) {}

  expect(id: RequestId): void {
    this.waiting.add(id);
  }

  begin(): void {
    if (!this.stream) return;
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.res.flushHeaders();
  }

  notify(message: JSONRPCMessage): void {
    if (this.stream && !this.finished) this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  respond(message: JSONRPCMessage, early: boolean): void {
    if (this.finished) return;
    const id = (message as { id: RequestId }).id;
    if (!this.waiting.delete(id)) return;
    if (this.stream) this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    else {
      this.answers.push(message);
      const error = (message as { error?: { code: number } }).error;
      if (this.modern && !this.batch && error) this.status = modernErrorStatus(error.code, early);
    }
    if (this.waiting.size === 0) this.finish();
  }

  private finish(): void {
    this.finished = true;
    if (this.stream) {
      this.res.end();
      return;
    }
    sendJson(this.res, this.status, this.batch ? this.answers : this.answers[0]);
  }

  get done(): boolean {
    return this.finished;
  }
}

export interface StatelessPost {
  transport: MultiplexTransport;
  req: IncomingMessage;
  res: ServerResponse;
  /** The parsed body: one message, or a batch (2025 era only). */
  body: unknown;
  authInfo?: AuthInfo;
}

export function handleStatelessPost({ transport, req, res, body, authInfo }: StatelessPost): void {
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
      const id = !batch && typeof (item as { id?: unknown })?.id !== 'object' ? ((item as { id?: string | number }).id ?? null) : null;
      sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request${batch ? ` at batch index ${index}` : ''}: not a JSON-RPC 2.0 message (needs "jsonrpc": "2.0" and a "method" string, or a result/error with an id)`, {}, id);
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
  const exchange = new Exchange(res, wantsStream(req, requests), batch, transport.era === 'modern');
  for (const request of requests) exchange.expect(request.id);
  exchange.begin();
  res.on('close', () => {
    if (exchange.done) return;
    for (const id of ownIds.values()) transport.cancel(id, 'the HTTP client disconnected');
  });
  for (const message of messages) {
    if (isRequest(message)) ownIds.set(message.id, transport.dispatchRequest(exchange, message, authInfo));
    else if (isNotification(message)) transport.dispatchNotification(message, ownIds, authInfo);
  }
}
