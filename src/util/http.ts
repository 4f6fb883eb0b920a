/**
 * The HTTP plumbing every listener and client of pistom shares (the MCP front, the --metrics
 * listener, the simulated node, the load tester): listen and say where, close with every
 * connection, answer JSON, read a body up to a limit.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on host:port (0: any free port) and resolves with the server's base URL. */
export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(urlOf(server));
    });
  });
}

/** http://host:port of a listening server (IPv6 addresses in brackets). */
export function urlOf(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Stops listening and ends every connection: idle ones at once, busy ones after `graceMs` (their
 * answers may still be on the way). Resolves when the server has closed.
 */
export function closeServer(server: Server, graceMs = 0): Promise<void> {
  if (!server.listening) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (graceMs <= 0) server.closeAllConnections();
  else setTimeout(() => server.closeAllConnections(), graceMs).unref();
  return closed;
}

/** Answers `body` as JSON (or just ends a response whose headers are already out). */
/** A request header's first value (Node gives an array for a repeated header). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A peer address in one form: an IPv4 address and its IPv6-mapped form are the same peer. */
export function normalizedAddress(address: string | undefined): string {
  const lower = (address ?? 'unknown').toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A body over the limit: `limit` says which. */
export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`body over ${limit} bytes`);
  }
}

type Body = AsyncIterable<Buffer | string> & { destroy?(error?: Error): unknown; resume?(): unknown };

/**
 * Reads a request or answer body as UTF-8 text, stopping at `limit` bytes: past it the rest is
 * discarded (a request's, so that the connection can still carry the answer) or the stream
 * destroyed (an answer's), and a BodyTooLargeError says which limit was passed.
 */
export async function readCapped(body: Body, limit: number, onOver: 'discard' | 'destroy' = 'destroy'): Promise<string> {
  const declared = Number((body as Partial<IncomingMessage>).headers?.['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    stop(body, onOver);
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > limit) {
      stop(body, onOver);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(buffer);
  }
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

function stop(body: Body, how: 'discard' | 'destroy'): void {
  if (how === 'discard') body.resume?.();
  else body.destroy?.();
}
