/**
 * One Piston node on the wire: an undici Pool (keep-alive, connect timeout), one deadline per
 * request that covers the whole answer however slowly it arrives, a cap on how much of an answer
 * is read, and the node's API base path. What comes back is classified by ./outcome.ts.
 */
import type { Pool } from 'undici';
import { readCapped } from '../util/http.js';
import { Redactor, displayUrl } from '../util/redact.js';
import {
  AttemptAbort,
  classifyError,
  classifyExecuteAnswer,
  classifyRuntimeListAnswer,
  type AttemptOutcome,
  type ClassifyContext,
  type NodeFault,
  type RuntimeListOutcome,
} from './outcome.js';
import { PISTON_API_PREFIX } from './limits.js';

export interface PistonClientOptions {
  /** Node name, used in messages (never the URL's credentials or headers). */
  name: string;
  url: string;
  headers?: Record<string, string>;
  connections?: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
  /** Most runtimes accepted in one node's list. */
  maxRuntimes?: number;
  /** Removes configured secrets from the node's own texts before they go anywhere. */
  redactor?: Redactor;
}

export interface CallOptions {
  /** The caller's cancellation. Abort with an AttemptAbort to say why pistom stopped the attempt. */
  signal?: AbortSignal;
  /** Deadline for the whole exchange: connect, headers and every byte of the body. */
  timeoutMs: number;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const ACCEPT_JSON = { accept: 'application/json' };

/** `http://user:pass@host` in a node URL becomes Basic auth (undici connects to the origin only). */
function credentialsHeader(url: URL): Record<string, string> {
  if (!url.username && !url.password) return {};
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

/**
 * Where the API lives. A URL with no path is a self-hosted node: Piston serves /api/v2 at its root.
 * A URL with a path is the API's base as published (the public API: https://emkc.org/api/v2/piston,
 * with /runtimes and /execute right below it) and is used as given.
 */
export function apiBasePath(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  return path === '' ? PISTON_API_PREFIX : path;
}

export class PistonClient {
  readonly name: string;
  /** The API's base URL, safe to show. */
  readonly baseUrl: string;
  /** Opened on the first request: loading undici is a fifth of a stdio server's start-up. */
  private pool: Pool | undefined;
  private opening: Promise<Pool> | undefined;
  private closed = false;
  private readonly origin: string;
  private readonly poolOptions: Pool.Options;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly maxResponseBytes: number;
  private readonly maxRuntimes: number;
  private readonly redactor: Redactor;
  /** What answer classification needs to know of this client, per path: fixed for its life. */
  private readonly contexts: Record<'/runtimes' | '/execute', ClassifyContext>;

  constructor(options: PistonClientOptions) {
    const url = new URL(options.url);
    this.name = options.name;
    this.basePath = apiBasePath(url);
    this.baseUrl = displayUrl(`${url.origin}${this.basePath}`);
    this.headers = { ...credentialsHeader(url), ...options.headers };
    this.maxResponseBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
    this.maxRuntimes = options.maxRuntimes ?? 1000;
    this.redactor = options.redactor ?? Redactor.none;
    const redact = (text: string) => this.redactor.redact(text);
    this.contexts = { '/runtimes': { node: this.name, redact, url: this.urlOf('/runtimes') }, '/execute': { node: this.name, redact, url: this.urlOf('/execute') } };
    this.origin = url.origin;
    this.poolOptions = {
      connections: options.connections ?? 64,
      connect: { timeout: options.connectTimeoutMs ?? 2000 },
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    };
  }

  private open(): Promise<Pool> {
    this.opening ??= import('undici').then(({ Pool }) => {
      this.pool = new Pool(this.origin, this.poolOptions);
      if (this.closed) void this.pool.destroy();
      return this.pool;
    });
    return this.opening;
  }

  /** The full URL of an API path, safe to show. */
  urlOf(path: '/runtimes' | '/execute'): string {
    return `${this.baseUrl}${path}`;
  }

  /** GET {base}/runtimes: the node's runtime list, or why there is none. Never throws. */
  async runtimes(options: CallOptions): Promise<RuntimeListOutcome> {
    const context = this.contexts['/runtimes'];
    const answer = await this.exchange('GET', '/runtimes', undefined, options);
    if ('error' in answer) {
      const outcome = classifyError(answer.error, answer.abortReason, context);
      return { ok: false, fault: outcome.class === 'node_fault' ? outcome : cancelledListFault(this.name) };
    }
    return classifyRuntimeListAnswer(answer.status, answer.text, context, { maxRuntimes: this.maxRuntimes });
  }

  /** POST {base}/execute with a body already serialized (its size was checked by the caller). Never throws. */
  async execute(body: string, options: CallOptions): Promise<AttemptOutcome> {
    const context = this.contexts['/execute'];
    const answer = await this.exchange('POST', '/execute', body, options);
    if ('error' in answer) return classifyError(answer.error, answer.abortReason, context);
    return classifyExecuteAnswer(answer.status, answer.text, context);
  }

  /** GET / of a self-hosted node: Piston answers `{"message": "Piston v3.1.1"}` (for `pistom check`). */
  async version(options: CallOptions): Promise<{ ok: true; version: string } | { ok: false; problem: string }> {
    const answer = await this.request('GET', '/', undefined, options);
    if ('error' in answer) return { ok: false, problem: classifyError(answer.error, answer.abortReason, this.contexts['/runtimes']).message };
    try {
      const message = (JSON.parse(answer.text) as { message?: unknown }).message;
      if (answer.status === 200 && typeof message === 'string') return { ok: true, version: this.redactor.redact(message).slice(0, 80) };
    } catch {
      // not JSON: reported below
    }
    return { ok: false, problem: `GET / answered HTTP ${answer.status} without Piston's {"message": "Piston vX.Y.Z"}` };
  }

  private exchange(method: 'GET' | 'POST', path: '/runtimes' | '/execute', body: string | undefined, options: CallOptions) {
    return this.request(method, this.basePath + path, body, options);
  }

  /** One HTTP exchange within one deadline. Resolves with the answer or with what replaced it. */
  private async request(method: 'GET' | 'POST', path: string, body: string | undefined, options: CallOptions): Promise<{ status: number; text: string } | { error: unknown; abortReason: unknown }> {
    const controller = new AbortController();
    const caller = options.signal;
    const onCallerAbort = () => controller.abort(caller!.reason ?? new AttemptAbort('cancelled', 'the call was cancelled'));
    if (caller?.aborted) onCallerAbort();
    else caller?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new AttemptAbort('timeout', `no whole answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    try {
      const pool = this.pool ?? (await this.open());
      const response = await pool.request({
        method,
        path,
        headers: body === undefined ? { ...this.headers, ...ACCEPT_JSON } : { ...this.headers, ...JSON_HEADERS },
        body,
        signal: controller.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      const text = await readCapped(response.body, this.maxResponseBytes);
      return { status: response.statusCode, text };
    } catch (error) {
      return { error, abortReason: controller.signal.aborted ? controller.signal.reason : undefined };
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool ?? (this.opening ? await this.opening : undefined);
    if (!pool || pool.closed || pool.destroyed) return;
    await pool.destroy();
  }
}

function cancelledListFault(node: string): NodeFault {
  return { class: 'node_fault', reason: 'closed', sent: false, message: `the runtime list request to node ${node} was stopped` };
}
