/**
 * `pistom/sim`: a simulated Piston v3.1.1 node for tests, demos, chaos tests and benchmarks.
 * Two parts, joined here: the node (src/sim/node: Piston's wire behaviour, validation, errors,
 * quirks, job slots and FIFO queue, fault injection, freezing, the admin API) and a deterministic
 * program model instead of a sandbox (src/sim/model), seen by the node only as a ProgramModel.
 * See docs/sim.md.
 */
import { CAP_NAMES, PISTON_DEFAULT_CAPS } from '../piston/limits.js';
import type { PistonRuntime } from '../piston/types.js';
import type { SimFault } from './node/faults.js';
import { createProgramModel, DEFAULT_MEMORY_FLOOR_BYTES, isModelName, MODEL_NAMES, type ModelName, type ProgramModel } from './model/index.js';
import { normalizeBasePath } from './node/routes.js';
import { SimServer, type SimStats } from './node/server.js';
import type { SimCaps } from './node/validate.js';

export type { SimFault } from './node/faults.js';
export type { SimStats } from './node/server.js';
export { DEFAULT_RUNTIMES } from './node/runtimes.js';
export { ALL_RUNTIMES } from './node/catalog.js';
export { DEFAULT_MEMORY_FLOOR_BYTES, MODEL_NAMES, createProgramModel } from './model/index.js';
export type { ExecuteJob, JobFile, JobLimits, ModelName, ModelOutcome, ProgramModel, SandboxSettings } from './model/index.js';
export type { Directive as SimDirective, DirectiveStage as SimDirectiveStage } from './model/index.js';

export interface SimNodeOptions {
  /** default '127.0.0.1' */
  host?: string;
  /** default 0 (ephemeral) */
  port?: number;
  /** default 'sim-<port>' */
  name?: string;
  /** 'default' = the recording's 4 (python 3.11.2, javascript 20.20.2, c & c++ 12.2.0); 'all' = the 125 */
  runtimes?: 'default' | 'all' | PistonRuntime[];
  /** PISTON_MAX_CONCURRENT_JOBS; default 64 */
  slots?: number;
  caps?: Partial<SimCaps>;
  /** extra service time per job, default 0 */
  latencyMs?: number;
  /** multiplies modeled wall time (sleeps, compile and run time), default 1 */
  timeScale?: number;
  /** expose /__sim/*, default true */
  admin?: boolean;
  /**
   * The kernel's cgroup floor: a run or compile memory limit whose cgroup value (floor(limit / 1000)
   * KiB) is below this many bytes is answered with status XX, as isolate fails to set it.
   * Default 8192 (observed: 3000 and 4096 bytes gave XX, 8192 did not); 0 turns it off.
   */
  memoryFloorBytes?: number;
  /**
   * Serve the API the way the public Piston API does: `{basePath}/runtimes` and `{basePath}/execute`
   * (e.g. '/api/v2/piston'), everything else 404. Default: Piston's own `/` and `/api/v2/...`.
   */
  basePath?: string;
  /**
   * What programs produce: 'interpreter' (reads Python, JavaScript, C and more, like a real node),
   * 'directive' (only the `pistom-sim:` directive counts; other programs exit 0 with no output), or
   * a ProgramModel of your own (memoryFloorBytes then does not apply). Default: the
   * PISTOM_SIM_MODEL environment variable if set, else 'interpreter'.
   */
  model?: ModelName | ProgramModel;
}

/** The environment variable that sets the model of nodes started without one (`directive` proves a suite needs no interpreter). */
export const MODEL_ENV = 'PISTOM_SIM_MODEL';

export interface SimNode {
  readonly name: string;
  /** Where it listens, `http://host:port`; the admin API is at `${url}/__sim/`. */
  readonly url: string;
  /** The URL to configure a router with: `url`, plus the base path if one is set. */
  readonly apiUrl: string;
  readonly port: number;
  /** Whether freeze() is in effect. */
  readonly frozen: boolean;
  stats(): SimStats;
  setLatency(ms: number): void;
  setFault(fault: SimFault | null): void;
  setRuntimes(runtimes: PistonRuntime[] | 'default' | 'all'): void;
  /** Like a crash: stop listening, destroy sockets, fail in-flight jobs' sockets. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  /** Release everything (timers, sockets); idempotent. */
  close(): Promise<void>;
  /**
   * Like SIGSTOP: connections are still accepted (as the kernel's listen backlog does), but nothing
   * is answered, not even GET /, the admin API or jobs already running, until thaw().
   */
  freeze(): void;
  /** Like SIGCONT: everything that arrived or finished while frozen is answered, in order. */
  thaw(): void;
}


function checkOptions(opts: SimNodeOptions): void {
  const nonNegative = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  };
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) throw new RangeError(`port must be an integer from 0 to 65535, got ${opts.port}`);
  if (opts.slots !== undefined && !(Number.isInteger(opts.slots) && opts.slots >= 1)) throw new RangeError(`slots must be a positive integer, got ${opts.slots}`);
  nonNegative('latencyMs', opts.latencyMs);
  nonNegative('timeScale', opts.timeScale);
  nonNegative('memoryFloorBytes', opts.memoryFloorBytes);
  if (opts.basePath !== undefined) normalizeBasePath(opts.basePath);
  const { model } = opts;
  if (model !== undefined && !(typeof model === 'string' ? isModelName(model) : typeof model?.simulate === 'function')) {
    throw new RangeError(`model must be one of ${MODEL_NAMES.join(', ')} or an object with simulate(job), got ${typeof model === 'string' ? `"${model}"` : typeof model}`);
  }
  for (const [name, value] of Object.entries(opts.caps ?? {})) {
    if (!(CAP_NAMES as readonly string[]).includes(name)) throw new RangeError(`unknown cap ${name}; known caps: ${CAP_NAMES.join(', ')}`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`cap ${name} must be a number, got ${String(value)}`);
  }
}

/** The model of nodes started without one: PISTOM_SIM_MODEL, else 'interpreter'. */
function defaultModelName(): ModelName {
  const value = process.env[MODEL_ENV];
  if (value === undefined || value === '') return 'interpreter';
  if (!isModelName(value)) throw new RangeError(`${MODEL_ENV} must be one of ${MODEL_NAMES.join(', ')}, got "${value}"`);
  return value;
}

function modelFor(opts: SimNodeOptions, caps: SimCaps): ProgramModel {
  if (typeof opts.model === 'object') return opts.model;
  return createProgramModel(opts.model ?? defaultModelName(), { outputMax: caps.output_max_size, memoryFloorBytes: opts.memoryFloorBytes ?? DEFAULT_MEMORY_FLOOR_BYTES });
}

export async function startSimNode(opts: SimNodeOptions = {}): Promise<SimNode> {
  checkOptions(opts);
  const caps: SimCaps = {
    run_timeout: PISTON_DEFAULT_CAPS.run_timeout,
    compile_timeout: PISTON_DEFAULT_CAPS.compile_timeout,
    run_cpu_time: PISTON_DEFAULT_CAPS.run_cpu_time,
    compile_cpu_time: PISTON_DEFAULT_CAPS.compile_cpu_time,
    run_memory_limit: PISTON_DEFAULT_CAPS.run_memory_limit,
    compile_memory_limit: PISTON_DEFAULT_CAPS.compile_memory_limit,
    output_max_size: PISTON_DEFAULT_CAPS.output_max_size,
    ...opts.caps,
  };
  const server = new SimServer({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    name: opts.name ?? '',
    runtimes: opts.runtimes ?? 'default',
    slots: opts.slots ?? PISTON_DEFAULT_CAPS.max_concurrent_jobs,
    caps,
    latencyMs: opts.latencyMs ?? 0,
    timeScale: opts.timeScale ?? 1,
    admin: opts.admin ?? true,
    model: modelFor(opts, caps),
    basePath: opts.basePath,
  });
  await server.start();
  const name = opts.name ?? `sim-${server.listeningPort}`;
  server.name = name;
  return {
    name,
    get url() {
      return server.url;
    },
    get apiUrl() {
      return server.apiUrl;
    },
    get port() {
      return server.listeningPort;
    },
    get frozen() {
      return server.frozen;
    },
    stats: () => server.stats(),
    setLatency: (ms) => server.setLatency(ms),
    setFault: (fault) => server.setFault(fault),
    setRuntimes: (runtimes) => server.setRuntimes(runtimes),
    stop: () => server.stop(),
    start: () => server.start(),
    close: () => server.close(),
    freeze: () => server.freeze(),
    thaw: () => server.thaw(),
  };
}

/** `count` nodes named sim-1..sim-N; with a fixed `port`, node i listens on port + i. */
export async function startSimCluster(count: number, opts: SimNodeOptions = {}): Promise<SimNode[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const nodes: SimNode[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = opts.port ? opts.port + i : 0;
      nodes.push(await startSimNode({ ...opts, port, name: `${opts.name ?? 'sim'}-${i + 1}` }));
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.close()));
    throw error;
  }
  return nodes;
}
