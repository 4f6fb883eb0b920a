/**
 * One Piston node on the wire: an undici Pool (keep-alive, connect timeout), a per-call answer
 * timeout, a cap on how much of an answer is read, and classification of whatever comes back.
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { CancelledError, classifyTransportError, NodeFaultError, PistonRequestError } from './errors.js';
import { PistonExecuteResponse, PistonRuntimeList, type PistonExecuteRequest, type PistonRuntime } from './types.js';

export interface PistonClientOptions {
  /** Node name, used in errors (never the URL's credentials or headers). */
  name: string;
  url: string;
  headers?: Record<string, string>;
  connections?: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs: number;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** `http://user:pass@host` in a node URL becomes Basic auth (undici connects to the origin only). */
function credentialsHeader(url: URL): Record<string, string> {
  if (!url.username && !url.password) return {};
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

export class PistonClient {
  readonly name: string;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly maxResponseBytes: number;

  constructor(options: PistonClientOptions) {
    const url = new URL(options.url);
    this.name = options.name;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.headers = { ...credentialsHeader(url), ...options.headers };
    this.maxResponseBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 64,
      connect: { timeout: options.connectTimeoutMs ?? 2000 },
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    });
  }

  /** GET /: Piston answers `{"message": "Piston v3.1.1"}`. */
  async version(options: CallOptions): Promise<string> {
    const body = await this.call('GET', '/', undefined, options);
    const message = (body as { message?: unknown } | null)?.message;
    if (typeof message !== 'string') throw new NodeFaultError(`node ${this.name} does not answer like Piston on GET /`, this.name, 'garbage', true);
    return message;
  }

  async runtimes(options: CallOptions): Promise<PistonRuntime[]> {
    const body = await this.call('GET', '/api/v2/runtimes', undefined, options);
    const parsed = PistonRuntimeList.safeParse(body);
    if (!parsed.success) throw new NodeFaultError(`node ${this.name} answered a runtime list that is not Piston's`, this.name, 'garbage', true);
    return parsed.data;
  }

  /** POST /api/v2/execute with a body already serialized (its size was checked by the caller). */
  async execute(body: string | PistonExecuteRequest, options: CallOptions): Promise<PistonExecuteResponse> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const answer = await this.call('POST', '/api/v2/execute', text, options);
    const parsed = PistonExecuteResponse.safeParse(answer);
    if (!parsed.success) throw new NodeFaultError(`node ${this.name} answered an execute result that is not Piston's`, this.name, 'garbage', true);
    const result = parsed.data;
    if (result.run.status === 'XX' || result.compile?.status === 'XX') {
      throw new NodeFaultError(`node ${this.name} had an internal sandbox error (XX)`, this.name, 'internal', true);
    }
    return result;
  }

  private async call(method: 'GET' | 'POST', path: string, body: string | undefined, options: CallOptions): Promise<unknown> {
    // undici's own timers bound the wait: headers (Piston answers only once the run is over) and
    // then the gaps while the body streams. Cheaper than a timeout signal per request.
    const signal = options.signal;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method,
        path: this.basePath + path,
        headers: body === undefined ? { ...this.headers, accept: 'application/json' } : { ...this.headers, ...JSON_HEADERS },
        body,
        signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
    } catch (error) {
      throw this.translate(error, options.signal);
    }
    let text: string;
    try {
      text = await this.readCapped(response.body);
    } catch (error) {
      throw this.translate(error, options.signal);
    }
    return this.interpret(response.statusCode, text);
  }

  private translate(error: unknown, caller: AbortSignal | undefined): Error {
    if (error instanceof NodeFaultError) return error;
    if (caller?.aborted) return new CancelledError();
    return classifyTransportError(error, this.name);
  }

  private async readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > this.maxResponseBytes) {
        body.destroy();
        throw new NodeFaultError(`node ${this.name} answered more than ${this.maxResponseBytes} bytes`, this.name, 'too_large', true);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private interpret(status: number, text: string): unknown {
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      if (status === 200) throw new NodeFaultError(`node ${this.name} answered invalid JSON`, this.name, 'garbage', true);
    }
    if (status === 200) {
      if (json === undefined) throw new NodeFaultError(`node ${this.name} answered an empty body`, this.name, 'garbage', true);
      return json;
    }
    if (status === 400) {
      const message = (json as { message?: unknown } | undefined)?.message;
      throw new PistonRequestError(typeof message === 'string' ? message : 'the node rejected the request', status, this.name);
    }
    throw new NodeFaultError(`node ${this.name} answered HTTP ${status}`, this.name, 'status', true, status);
  }

  async close(): Promise<void> {
    if (this.pool.closed || this.pool.destroyed) return;
    await this.pool.destroy();
  }
}
