/**
 * One stateless Streamable HTTP exchange (a POST to /mcp): validates the JSON-RPC messages, feeds
 * them to the shared multiplexing transport, and answers as JSON, or as an SSE stream when the
 * client asked for progress (notifications need a stream).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { asJsonRpcMessage } from './jsonrpc.js';
import type { ExchangeSink, MultiplexTransport } from './mux-transport.js';
import { RPC, sendJson, sendRpcError } from './respond.js';

type IncomingRequest = JSONRPCMessage & { id: RequestId; method: string; params?: { _meta?: { progressToken?: unknown } } };

function isRequest(message: JSONRPCMessage): message is IncomingRequest {
  return 'method' in message && 'id' in message;
}

function isNotification(message: JSONRPCMessage): message is JSONRPCMessage & { method: string; params?: Record<string, unknown> } {
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

  constructor(
    readonly clientKey: string,
    private readonly res: ServerResponse,
    private readonly stream: boolean,
    private readonly batch: boolean,
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

  respond(message: JSONRPCMessage): void {
    if (this.finished) return;
    const id = (message as { id: RequestId }).id;
    this.waiting.delete(id);
    if (this.stream) this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    else this.answers.push(message);
    if (this.waiting.size === 0) this.finish();
  }

  abandon(originalId: RequestId): void {
    this.respond({ jsonrpc: '2.0', id: originalId, error: { code: -32800, message: 'Request cancelled' } });
  }

  private finish(): void {
    this.finished = true;
    if (this.stream) {
      this.res.end();
      return;
    }
    const body = this.batch ? this.answers : this.answers[0];
    sendJson(this.res, 200, body);
  }

  get done(): boolean {
    return this.finished;
  }
}

export function handleStatelessPost(transport: MultiplexTransport, req: IncomingMessage, res: ServerResponse, body: string, clientKey: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    sendRpcError(res, 400, RPC.parseError, `Parse error: the body is not valid JSON (${(error as Error).message})`);
    return;
  }
  const batch = Array.isArray(parsed);
  const items: unknown[] = batch ? (parsed as unknown[]) : [parsed];
  if (items.length === 0) {
    sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: an empty batch');
    return;
  }
  const messages: JSONRPCMessage[] = [];
  for (const [index, item] of items.entries()) {
    const message = asJsonRpcMessage(item);
    if (!message) {
      sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request${batch ? ` at batch index ${index}` : ''}: not a JSON-RPC 2.0 message (needs "jsonrpc": "2.0" and a "method" string, or a result/error with an id)`);
      return;
    }
    messages.push(message);
  }
  const requests = messages.filter(isRequest);
  if (new Set(requests.map((request) => request.id)).size !== requests.length) {
    sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: two requests in one batch share an id; each needs its own so that each gets its own answer');
    return;
  }
  if (requests.length === 0) {
    for (const message of messages) if (isNotification(message)) transport.dispatchNotification({ clientKey, notify() {}, respond() {}, abandon() {} }, message);
    res.writeHead(202).end();
    return;
  }
  const exchange = new Exchange(clientKey, res, wantsStream(req, requests), batch);
  for (const request of requests) exchange.expect(request.id);
  exchange.begin();
  const internalIds: number[] = [];
  res.on('close', () => {
    if (exchange.done) return;
    for (const id of internalIds) transport.cancel(id, 'the HTTP client disconnected');
  });
  for (const message of messages) {
    if (isRequest(message)) internalIds.push(transport.dispatchRequest(exchange, message));
    else if (isNotification(message)) transport.dispatchNotification(exchange, message);
  }
}
