/**
 * The simulated node's HTTP server: Piston v3.1.1's routes and middleware order (body parser,
 * content-type check, routes, 404), the job slots, fault injection, freezing and the /__sim/ admin API.
 * What a job's program produces comes from the configured ProgramModel, the only part of the
 * model the node sees.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { PistonRuntime, StageResult } from '../../piston/types.js';
import type { ProgramModel } from '../model/program-model.js';
import { handleAdmin, type AdminTarget } from './admin.js';
import { dripAnswer } from './drip.js';
import { JSON_TYPE, answerWithFault, padToSize } from './fault-answers.js';
import { FaultInjector, type SimFault } from './faults.js';
import { FreezeGate } from './freeze.js';
import { readBody } from './request-body.js';
import { apiLayout, normalizeBasePath, resolveRoute, type ApiLayout, type Route } from './routes.js';
import { RuntimeCatalog, type RuntimeSelection } from './runtimes.js';
import { JobSlots } from './slots.js';
import { validateExecute, type SimCaps } from './validate.js';
import { closeServer, listen } from '../../util/http.js';

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
  /** What programs produce: the node hands it each accepted job. */
  model: ProgramModel;
  /** serve `{basePath}/runtimes` and `{basePath}/execute` only, like the public API */
  basePath?: string;
}

export interface SimStats {
  received: number;
  executed: number;
  inFlight: number;
  queued: number;
  maxInFlight: number;
  faulted: number;
}

const ROOT_BODY = JSON.stringify({ message: 'Piston v3.1.1' });
const NOT_FOUND_BODY = JSON.stringify({ message: 'Not Found' });
const UNSUPPORTED_TYPE_BODY = JSON.stringify({ message: 'requests must be of type application/json' });
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

/** One Piston request on its way through the node. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  route: Route;
  /** The body's text as sent ('' when not read): what a fault's `match` looks at. */
  raw: string;
}

export class SimServer {
  name: string;
  private readonly config: SimServerConfig;
  private readonly layout: ApiLayout;
  private readonly basePath: string | undefined;
  private server: Server | null = null;
  private port: number;
  private catalog: RuntimeCatalog;
  private slots: JobSlots;
  private readonly faults = new FaultInjector();
  private readonly gate = new FreezeGate();
  private latencyMs: number;
  private readonly sockets = new Set<Socket>();
  private readonly jobs = new Set<LiveJob>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly drips = new Set<() => void>();
  private readonly adminTimers = new Set<NodeJS.Timeout>();
  private counters = { received: 0, executed: 0, faulted: 0, maxInFlight: 0 };
  private closed = false;

  constructor(config: SimServerConfig) {
    this.config = config;
    this.port = config.port;
    this.name = config.name;
    this.basePath = config.basePath === undefined ? undefined : normalizeBasePath(config.basePath);
    this.layout = apiLayout(config.basePath);
    this.catalog = new RuntimeCatalog(config.runtimes);
    this.slots = new JobSlots(config.slots);
    this.latencyMs = config.latencyMs;
  }

  get listeningPort(): number {
    return this.port;
  }

  /** Where the server listens (the admin API is at `${url}/__sim/`). */
  get url(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${this.port}`;
  }

  /** The URL a router is configured with: the origin, or origin + base path. */
  get apiUrl(): string {
    return `${this.url}${this.basePath ?? ''}`;
  }

  get frozen(): boolean {
    return this.gate.isFrozen;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error(`sim node ${this.name} is closed`);
    if (this.server) return;
    const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => this.gate.pass(() => this.handle(req, res)));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket: Socket) => socket.destroy());
    await listen(server, this.port, this.config.host);
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.slots = new JobSlots(this.config.slots);
  }

  /** Like a crash: stop listening, drop every connection, forget every job (a frozen node is thawed by its restart). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.gate.reset();
    this.endAllWork();
    if (!server) return;
    await closeServer(server);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.adminTimers) clearTimeout(timer);
    this.adminTimers.clear();
    await this.stop();
  }

  /** Like SIGSTOP: connections are still accepted, nothing is answered, running jobs wait. */
  freeze(): void {
    this.gate.freeze();
    // a stopped process does not time out its idle keep-alive connections either
    for (const socket of this.sockets) socket.setTimeout(0);
  }

  /** Like SIGCONT: what arrived or finished while frozen is handled, in order. */
  thaw(): void {
    this.gate.thaw();
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
    for (const cancel of this.drips) cancel();
    this.drips.clear();
  }

  // ---------------------------------------------------------------- request handling

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (this.config.admin && path.startsWith('/__sim/')) {
      handleAdmin(req, res, path, this.adminTarget);
      return;
    }
    this.counters.received++;
    const route = resolveRoute(this.layout, path);
    readBody(req, (body) => {
      const exchange: Exchange = { req, res, method: req.method ?? 'GET', route, raw: body.raw };
      const fault = this.faults.take(route.faultPath, 'request', body.raw);
      if (fault) {
        this.counters.faulted++;
        answerWithFault({ req, res, sample: this.sampleFor(route), hang: (r) => this.hang(r) }, fault);
      } else if (!body.ok) {
        this.send(res, 400, body.body);
      } else {
        this.route(exchange, body.value);
      }
    });
  }

  private route(ex: Exchange, body: unknown): void {
    const { method, res } = ex;
    const { kind } = ex.route;
    const read = method === 'GET' || method === 'HEAD';
    if (kind === 'root' && read) return this.sendResult(ex, 200, ROOT_BODY);
    if (kind === 'runtimes' || kind === 'execute' || kind === 'packages' || kind === 'api') {
      const contentType = ex.req.headers['content-type'];
      if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && !contentType?.startsWith('application/json')) {
        return this.send(res, 415, UNSUPPORTED_TYPE_BODY);
      }
      if (kind === 'runtimes' && read) return this.sendResult(ex, 200, this.catalog.listingJson);
      if (kind === 'execute' && method === 'POST') return this.execute(ex, body);
      if (kind === 'packages') {
        if (read) {
          const list = this.catalog.runtimes.map((rt) => ({ language: rt.language, language_version: rt.version, installed: true }));
          return this.sendResult(ex, 200, JSON.stringify(list));
        }
        if (method === 'POST' || method === 'DELETE') {
          const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
          return this.send(res, 404, JSON.stringify({ message: `Requested package ${String(b.language)}-${String(b.version)} does not exist` }));
        }
      }
    }
    if (method === 'OPTIONS') {
      const allow = kind === 'root' || kind === 'runtimes' ? 'GET,HEAD' : kind === 'execute' ? 'POST' : kind === 'packages' ? 'GET,HEAD,POST,DELETE' : null;
      if (allow) {
        res.writeHead(200, { 'x-powered-by': 'Express', allow, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(allow) });
        res.end(allow);
        return;
      }
    }
    this.sendResult(ex, 404, NOT_FOUND_BODY);
  }

  private execute(ex: Exchange, body: unknown): void {
    const { res } = ex;
    const validation = validateExecute(body, this.catalog, this.config.caps);
    if (!validation.ok) {
      this.send(res, validation.status, validation.body);
      return;
    }
    const { job, internalError } = validation;
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
        if (internalError) {
          done();
          this.send(res, 500, '');
          return;
        }
        const outcome = this.config.model.simulate(job);
        if (outcome.endless) return; // holds its slot until the node stops
        const answer = (): void => {
          done();
          this.counters.executed++;
          const fault = this.faults.take('execute', 'result', ex.raw);
          let run = outcome.run;
          if (fault?.kind === 'xx') {
            this.counters.faulted++;
            run = { ...run, stdout: '', stderr: '', output: '', code: null, signal: null, status: 'XX', message: 'Internal sandbox error' };
          }
          this.sendResult(ex, 200, serializeResult(job.runtime, run, outcome.compile), fault);
        };
        const holdMs = outcome.durationMs * this.config.timeScale + this.latencyMs;
        if (holdMs <= 0) this.gate.pass(answer);
        else live.timer = setTimeout(() => this.gate.pass(answer), holdMs);
      },
      () => {
        this.jobs.delete(live);
        res.socket?.destroy();
      },
    );
  }

  /** Sends an answer, applying a result-stage fault (huge, drip) if one strikes. */
  private sendResult(ex: Exchange, status: number, body: string, resultFault?: SimFault | null): void {
    const { res, method } = ex;
    const fault = resultFault === undefined ? this.faults.take(ex.route.faultPath, 'result', ex.raw) : resultFault;
    if (fault?.kind === 'huge') {
      this.counters.faulted++;
      body = padToSize(body, fault.bytes, ex.route.kind === 'execute' && status === 200);
    }
    if (fault?.kind === 'drip' && method !== 'HEAD' && !res.destroyed && !res.headersSent) {
      this.counters.faulted++;
      const cancel = dripAnswer(res, status, { 'x-powered-by': 'Express', 'content-type': JSON_TYPE }, body, fault.interval_ms, this.gate);
      this.drips.add(cancel);
      res.once('close', () => this.drips.delete(cancel));
      return;
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

  private sampleFor(route: Route): string {
    return route.kind === 'runtimes' ? this.catalog.listingJson : route.kind === 'execute' ? SAMPLE_EXECUTE_ANSWER : ROOT_BODY;
  }

  private hang(res: ServerResponse): void {
    this.hanging.add(res);
    res.once('close', () => this.hanging.delete(res));
  }

  // ---------------------------------------------------------------- admin API

  private readonly adminTarget: AdminTarget = {
    state: () => ({ name: this.name, url: this.url, apiUrl: this.apiUrl, stats: this.stats(), latencyMs: this.latencyMs, fault: this.faults.current() }),
    currentFault: () => this.faults.current(),
    setFault: (fault) => this.setFault(fault),
    setLatency: (ms) => this.setLatency(ms),
    setRuntimes: (runtimes) => this.setRuntimes(runtimes),
    runtimes: () => this.catalog.runtimes,
    restartAfter: (res, downMs) => {
      res.once('finish', () => {
        const timer = setTimeout(() => {
          this.adminTimers.delete(timer);
          if (!this.closed) void this.start().catch(() => undefined);
        }, downMs);
        this.adminTimers.add(timer);
        void this.stop();
      });
    },
  };
}

/** Piston's answer, keys in Piston's order. */
function serializeResult(runtime: PistonRuntime, run: StageResult, compile: StageResult | undefined): string {
  const stage = (s: StageResult) => ({
    signal: s.signal, stdout: s.stdout, stderr: s.stderr, code: s.code, output: s.output,
    memory: s.memory, message: s.message, status: s.status, cpu_time: s.cpu_time, wall_time: s.wall_time,
  });
  return JSON.stringify({ ...(compile ? { compile: stage(compile) } : {}), run: stage(run), language: runtime.language, version: runtime.version });
}
