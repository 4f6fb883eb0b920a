/**
 * The simulated node's HTTP server: Piston v3.1.1's routes and middleware order (body parser,
 * content-type check, routes, 404), the job slots, fault injection and the /__sim/ admin API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PISTON_DEFAULT_CAPS, type PistonRuntime, type StageResult } from '../piston/types.js';
import { PAYLOAD_TOO_LARGE_BODY, parseJsonBody } from './body-errors.js';
import { FaultInjector, checkFault, type PathKind, type SimFault } from './faults.js';
import { simulate, type ModelOutcome } from './model/program.js';
import { RuntimeCatalog, type RuntimeSelection } from './runtimes.js';
import { JobSlots } from './slots.js';
import { validateExecute, type ExecuteJob, type SimCaps } from './validate.js';

export interface SimServerConfig {
  host: string;
  port: number;
  name: string;
  runtimes: RuntimeSelection;
  slots: number;
  caps: SimCaps;
  latencyMs: number;
  timeScale: number;
  admin: boolean;
}

export interface SimStats {
  received: number;
  executed: number;
  inFlight: number;
  queued: number;
  maxInFlight: number;
  faulted: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const ROOT_BODY = JSON.stringify({ message: 'Piston v3.1.1' });
const NOT_FOUND_BODY = JSON.stringify({ message: 'Not Found' });
const UNSUPPORTED_TYPE_BODY = JSON.stringify({ message: 'requests must be of type application/json' });
const MAX_BODY_BYTES = PISTON_DEFAULT_CAPS.max_body_bytes;
const MAX_ADMIN_BODY_BYTES = 4 * 1024 * 1024;
const GARBAGE_BODY = '<html><body>pistom-sim garbage: this is not JSON {]';
const SAMPLE_EXECUTE_ANSWER = JSON.stringify({
  run: { signal: null, stdout: 'hello\n', stderr: '', code: 0, output: 'hello\n', memory: 3760000, message: null, status: null, cpu_time: 20, wall_time: 31 },
  language: 'python',
  version: '3.11.2',
});

/** A job holding (or waiting for) a slot, so stop()/close() can end it. */
interface LiveJob {
  timer?: NodeJS.Timeout;
  release?: () => void;
  res: ServerResponse;
}

export class SimServer {
  name: string;
  private readonly config: SimServerConfig;
  private server: Server | null = null;
  private port: number;
  private catalog: RuntimeCatalog;
  private slots: JobSlots;
  private readonly faults = new FaultInjector();
  private latencyMs: number;
  private readonly sockets = new Set<Socket>();
  private readonly jobs = new Set<LiveJob>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly adminTimers = new Set<NodeJS.Timeout>();
  private counters = { received: 0, executed: 0, faulted: 0, maxInFlight: 0 };
  private closed = false;
  /** The model is deterministic: benchmark payloads repeat, so their outcomes are remembered. */
  private readonly outcomes = new Map<string, ModelOutcome>();

  constructor(config: SimServerConfig) {
    this.config = config;
    this.port = config.port;
    this.name = config.name;
    this.catalog = new RuntimeCatalog(config.runtimes);
    this.slots = new JobSlots(config.slots);
    this.latencyMs = config.latencyMs;
  }

  get listeningPort(): number {
    return this.port;
  }

  get url(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error(`sim node ${this.name} is closed`);
    if (this.server) return;
    const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
    this.slots = new JobSlots(this.config.slots);
  }

  /** Like a crash: stop listening, drop every connection, forget every job. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.endAllWork();
    if (!server) return;
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.adminTimers) clearTimeout(timer);
    this.adminTimers.clear();
    await this.stop();
  }

  stats(): SimStats {
    const slots = this.slots.stats();
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, slots.maxInFlight);
    return {
      received: this.counters.received,
      executed: this.counters.executed,
      inFlight: slots.inFlight,
      queued: slots.queued,
      maxInFlight: this.counters.maxInFlight,
      faulted: this.counters.faulted,
    };
  }

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a non-negative number of ms, got ${ms}`);
    this.latencyMs = ms;
  }

  setFault(fault: SimFault | null): void {
    this.faults.set(fault);
  }

  setRuntimes(runtimes: RuntimeSelection): void {
    this.catalog = new RuntimeCatalog(runtimes);
  }

  private endAllWork(): void {
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.slots.stats().maxInFlight);
    this.slots.close();
    for (const job of this.jobs) {
      if (job.timer) clearTimeout(job.timer);
      job.release?.();
      job.res.socket?.destroy();
    }
    this.jobs.clear();
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
  }

  // ---------------------------------------------------------------- request handling

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (this.config.admin && path.startsWith('/__sim/')) {
      this.handleAdmin(req, res, path);
      return;
    }
    this.counters.received++;
    // express routes are case-insensitive and ignore one trailing slash
    const route = (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).toLowerCase();
    const kind: PathKind = route === '/api/v2/execute' ? 'execute' : route === '/api/v2/runtimes' ? 'runtimes' : 'other';
    const contentType = req.headers['content-type'];
    const mediaType = contentType?.split(';')[0]!.trim().toLowerCase();
    const parsed = mediaType === 'application/json' || mediaType === 'application/x-www-form-urlencoded';
    if (!parsed) {
      req.resume();
      this.afterBody(req, res, kind, () => this.route(req, res, route, kind, contentType, {}));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      req.resume();
      this.afterBody(req, res, kind, () => this.send(res, 400, PAYLOAD_TOO_LARGE_BODY));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        this.afterBody(req, res, kind, () => this.send(res, 400, PAYLOAD_TOO_LARGE_BODY));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      if (mediaType !== 'application/json') {
        this.afterBody(req, res, kind, () => this.route(req, res, route, kind, contentType, {}));
        return;
      }
      const result = parseJsonBody(Buffer.concat(chunks, size).toString('utf8'));
      this.afterBody(req, res, kind, () => {
        if (!result.ok) this.send(res, 400, result.body);
        else this.route(req, res, route, kind, contentType, result.value);
      });
    });
    req.on('error', () => res.socket?.destroy());
  }

  /** The point where a request has been read: request-stage faults strike here. */
  private afterBody(_req: IncomingMessage, res: ServerResponse, kind: PathKind, next: () => void): void {
    const fault = this.faults.take(kind, 'request');
    if (!fault) {
      next();
      return;
    }
    this.counters.faulted++;
    this.applyRequestFault(res, kind, fault);
  }

  private route(req: IncomingMessage, res: ServerResponse, route: string, kind: PathKind, contentType: string | undefined, body: unknown): void {
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    if (route === '/' && read) return this.sendResult(res, kind, 200, ROOT_BODY, method);
    if (route === '/api/v2' || route.startsWith('/api/v2/')) {
      if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && !contentType?.startsWith('application/json')) {
        return this.send(res, 415, UNSUPPORTED_TYPE_BODY);
      }
      if (kind === 'runtimes' && read) return this.sendResult(res, kind, 200, this.catalog.listingJson, method);
      if (kind === 'execute' && method === 'POST') return this.execute(res, body);
      if (route === '/api/v2/packages') {
        if (read) {
          const list = this.catalog.runtimes.map((rt) => ({ language: rt.language, language_version: rt.version, installed: true }));
          return this.sendResult(res, kind, 200, JSON.stringify(list), method);
        }
        if (method === 'POST' || method === 'DELETE') {
          const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
          return this.send(res, 404, JSON.stringify({ message: `Requested package ${String(b.language)}-${String(b.version)} does not exist` }));
        }
      }
    }
    if (method === 'OPTIONS') {
      const allow = route === '/' || kind === 'runtimes' ? 'GET,HEAD' : kind === 'execute' ? 'POST' : route === '/api/v2/packages' ? 'GET,HEAD,POST,DELETE' : null;
      if (allow) {
        res.writeHead(200, { 'x-powered-by': 'Express', allow, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(allow) });
        res.end(allow);
        return;
      }
    }
    this.sendResult(res, kind, 404, NOT_FOUND_BODY, method);
  }

  private execute(res: ServerResponse, body: unknown): void {
    const validation = validateExecute(body, this.catalog, this.config.caps);
    if (!validation.ok) {
      this.send(res, validation.status, validation.body);
      return;
    }
    const { job } = validation;
    const live: LiveJob = { res };
    this.jobs.add(live);
    this.slots.acquire().then(
      (release) => {
        if (!this.jobs.has(live)) {
          release();
          return;
        }
        live.release = release;
        const done = (): void => {
          this.jobs.delete(live);
          release();
        };
        if (job.internalError) {
          done();
          this.send(res, 500, '');
          return;
        }
        const outcome = this.outcomeOf(job);
        if (outcome.endless) return; // holds its slot until the node stops
        const answer = (): void => {
          done();
          this.counters.executed++;
          const fault = this.faults.take('execute', 'result');
          let run = outcome.run;
          if (fault?.kind === 'xx') {
            this.counters.faulted++;
            run = { ...run, stdout: '', stderr: '', output: '', code: null, signal: null, status: 'XX', message: 'Internal sandbox error' };
          }
          this.sendResult(res, 'execute', 200, serializeResult(job.runtime, run, outcome.compile), 'POST', fault);
        };
        const holdMs = outcome.durationMs * this.config.timeScale + this.latencyMs;
        if (holdMs <= 0) answer();
        else live.timer = setTimeout(answer, holdMs);
      },
      () => {
        this.jobs.delete(live);
        res.socket?.destroy();
      },
    );
  }

  private outcomeOf(job: ExecuteJob): ModelOutcome {
    const size = job.files.reduce((n, f) => n + f.content.length, job.stdin.length);
    if (size > 16 * 1024) return simulate(job, this.config.caps.output_max_size);
    const key = JSON.stringify([job.runtime.language, job.runtime.version, job.files, job.main.name, job.args, job.stdin, job.limits]);
    let outcome = this.outcomes.get(key);
    if (!outcome) {
      outcome = simulate(job, this.config.caps.output_max_size);
      if (this.outcomes.size >= 2000) this.outcomes.delete(this.outcomes.keys().next().value!);
      this.outcomes.set(key, outcome);
    }
    return outcome;
  }

  /** Sends an answer, applying a result-stage fault (huge) if one strikes. */
  private sendResult(res: ServerResponse, kind: PathKind, status: number, body: string, method: string, resultFault?: SimFault | null): void {
    const fault = resultFault === undefined ? this.faults.take(kind, 'result') : resultFault;
    if (fault?.kind === 'huge') {
      this.counters.faulted++;
      body = padToSize(body, fault.bytes, kind === 'execute' && status === 200);
    }
    this.send(res, status, body, method === 'HEAD');
  }

  private send(res: ServerResponse, status: number, body: string, headOnly = false): void {
    if (res.destroyed || res.headersSent) return;
    if (status === 500 && body === '') {
      res.writeHead(500, { 'x-powered-by': 'Express', 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(status, { 'x-powered-by': 'Express', 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(headOnly ? undefined : body);
  }

  private applyRequestFault(res: ServerResponse, kind: PathKind, fault: SimFault): void {
    const sample = kind === 'runtimes' ? this.catalog.listingJson : kind === 'execute' ? SAMPLE_EXECUTE_ANSWER : ROOT_BODY;
    switch (fault.kind) {
      case 'hang':
        this.hanging.add(res);
        res.once('close', () => this.hanging.delete(res));
        return;
      case 'status': {
        const body = fault.body ?? '';
        const isJson = body.trimStart().startsWith('{') || body.trimStart().startsWith('[');
        res.writeHead(fault.status, { 'content-type': isJson ? JSON_TYPE : 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'reset': {
        const bytes = Buffer.from(sample);
        res.writeHead(200, { 'x-powered-by': 'Express', 'content-type': JSON_TYPE, 'content-length': bytes.length });
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
        return;
      }
      case 'garbage':
        this.send(res, 200, GARBAGE_BODY);
        return;
      case 'truncated':
        this.send(res, 200, sample.slice(0, Math.max(1, Math.floor(sample.length / 2))));
        return;
      default:
        this.send(res, 500, '');
    }
  }

  // ---------------------------------------------------------------- admin API

  private handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ADMIN_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_ADMIN_BODY_BYTES) return this.adminReply(res, 413, { error: 'body too large' });
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          return this.adminReply(res, 400, { error: 'body must be JSON' });
        }
      }
      try {
        this.admin(req.method ?? 'GET', path, body, res);
      } catch (error) {
        this.adminReply(res, 400, { error: (error as Error).message });
      }
    });
  }

  private admin(method: string, path: string, body: unknown, res: ServerResponse): void {
    const state = () => ({ name: this.name, url: this.url, stats: this.stats(), latencyMs: this.latencyMs, fault: this.faults.current() });
    if (path === '/__sim/stats' && method === 'GET') return this.adminReply(res, 200, state());
    if (path === '/__sim/fault' && method === 'GET') return this.adminReply(res, 200, { fault: this.faults.current() });
    if (path === '/__sim/fault' && (method === 'POST' || method === 'DELETE')) {
      const fault = method === 'DELETE' || body === undefined || body === null ? null : body;
      if (fault !== null) {
        const problem = checkFault(fault);
        if (problem) return this.adminReply(res, 400, { error: problem });
      }
      this.setFault(fault as SimFault | null);
      return this.adminReply(res, 200, state());
    }
    if (path === '/__sim/latency' && method === 'POST') {
      const ms = typeof body === 'number' ? body : (body as { ms?: unknown } | undefined)?.ms;
      if (typeof ms !== 'number' || !(ms >= 0)) return this.adminReply(res, 400, { error: 'expected {"ms": <non-negative number>}' });
      this.setLatency(ms);
      return this.adminReply(res, 200, state());
    }
    if (path === '/__sim/runtimes' && method === 'POST') {
      const value = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { runtimes?: unknown }).runtimes : body;
      if (value !== 'default' && value !== 'all' && !isRuntimeList(value)) {
        return this.adminReply(res, 400, { error: 'expected "default", "all" or an array of {language, version, aliases[], runtime?}' });
      }
      this.setRuntimes(value);
      return this.adminReply(res, 200, { runtimes: this.catalog.runtimes });
    }
    if (path === '/__sim/restart' && method === 'POST') {
      const downMs = (body as { downMs?: unknown } | undefined)?.downMs ?? 0;
      if (typeof downMs !== 'number' || !(downMs >= 0)) return this.adminReply(res, 400, { error: 'downMs must be a non-negative number' });
      this.adminReply(res, 200, { restarting: true, downMs });
      res.once('finish', () => {
        const timer = setTimeout(() => {
          this.adminTimers.delete(timer);
          if (!this.closed) void this.start().catch(() => undefined);
        }, downMs);
        this.adminTimers.add(timer);
        void this.stop();
      });
      return;
    }
    this.adminReply(res, 404, { error: `no admin route ${method} ${path}` });
  }

  private adminReply(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function isRuntimeList(value: unknown): value is PistonRuntime[] {
  return (
    Array.isArray(value) &&
    value.every(
      (r) =>
        typeof r === 'object' && r !== null &&
        typeof (r as PistonRuntime).language === 'string' &&
        typeof (r as PistonRuntime).version === 'string' &&
        Array.isArray((r as PistonRuntime).aliases) &&
        ((r as PistonRuntime).runtime === undefined || typeof (r as PistonRuntime).runtime === 'string'),
    )
  );
}

/** Piston's answer, keys in Piston's order. */
function serializeResult(runtime: PistonRuntime, run: StageResult, compile: StageResult | undefined): string {
  const stage = (s: StageResult) => ({
    signal: s.signal, stdout: s.stdout, stderr: s.stderr, code: s.code, output: s.output,
    memory: s.memory, message: s.message, status: s.status, cpu_time: s.cpu_time, wall_time: s.wall_time,
  });
  return JSON.stringify({ ...(compile ? { compile: stage(compile) } : {}), run: stage(run), language: runtime.language, version: runtime.version });
}

/** A valid answer of about `bytes` bytes: an execute answer's stdout grows, anything else gets trailing whitespace. */
function padToSize(body: string, bytes: number, executeAnswer: boolean): string {
  const missing = bytes - Buffer.byteLength(body);
  if (missing <= 0) return body;
  if (executeAnswer) {
    const answer = JSON.parse(body) as { run: StageResult };
    const half = Math.floor(missing / 2);
    answer.run.stdout += 'x'.repeat(half);
    answer.run.output += 'x'.repeat(missing - half);
    return JSON.stringify(answer);
  }
  return body + ' '.repeat(missing);
}
