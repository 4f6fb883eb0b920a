/** runBench: one run from options to report, for the CLI and for the project's own benchmarks. */
import os from 'node:os';
import { runClosedLoop } from './load/closed.js';
import type { Fire, LoadRun } from './load/driver.js';
import { LoadGate } from './load/gate.js';
import { runOpenLoop } from './load/open.js';
import { now, sleep } from './load/timing.js';
import { resolveBenchOptions, type BenchOptionsInput, type ResolvedBenchOptions } from './options.js';
import type { Outcome } from './outcome.js';
import { Recorder, type LiveStats, type Redact } from './recorder.js';
import { Redactor, urlSecrets } from '../util/redact.js';
import { REPORT_SCHEMA, type BenchReport } from './report/types.js';
import { createTarget, type RuntimeInfo, type Target } from './targets/index.js';
import { createPicker, isBuiltinWorkload, loadWorkload, type Workload } from './workloads.js';

/** After an interrupt, requests in flight get this long to finish before they are cancelled. */
const INTERRUPT_GRACE_MS = 2000;
const SETUP_TIMEOUT_MS = 15_000;
const RUNTIMES_PATIENCE_MS = 5_000;

export interface LiveSink {
  start(read: () => LiveStats, info: { title: string }): void;
  stop(): void;
}

export interface RunBenchContext {
  /** Ends the run early: no new requests, in-flight ones get a short grace, then the report. */
  signal?: AbortSignal;
  /** Cancels in-flight requests at once (a second Ctrl-C). */
  forceSignal?: AbortSignal;
  live?: LiveSink;
  log?: (line: string) => void;
}

export class BenchSetupError extends Error {}

export async function runBench(input: BenchOptionsInput, context: RunBenchContext = {}): Promise<BenchReport> {
  const options = resolveBenchOptions(input);
  const redactor = new Redactor([...Object.values(options.headers), ...targetUrls(options).flatMap(urlSecrets)]);
  const redact: Redact = (text) => redactor.redact(text);
  const target = safeCreateTarget(options, redact);
  try {
    const workload = await setUp(target, options, redact, context);
    return await measure(target, workload, options, redact, context);
  } finally {
    await target.close();
  }
}

function targetUrls(options: ResolvedBenchOptions): string[] {
  const t = options.target;
  return t.kind === 'piston' ? t.urls : t.kind === 'mcp-http' ? [t.url] : [];
}

function safeCreateTarget(options: ResolvedBenchOptions, redact: Redact): Target {
  try {
    return createTarget(options.target, {
      headers: options.headers,
      maxConcurrent: options.load.mode === 'closed' ? options.load.concurrency : options.load.maxInFlight,
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    throw new BenchSetupError(redact((error as Error).message));
  }
}

async function setUp(
  target: Target,
  options: ResolvedBenchOptions,
  redact: Redact,
  context: RunBenchContext,
): Promise<Workload> {
  const signal = AbortSignal.any([AbortSignal.timeout(SETUP_TIMEOUT_MS), ...(context.signal ? [context.signal] : [])]);
  const step = async <T>(what: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      const reason = signal.aborted ? `gave up after ${SETUP_TIMEOUT_MS / 1000}s or interrupted` : (error as Error).message;
      throw new BenchSetupError(redact(`${what}: ${reason}`));
    }
  };
  await step(`connecting to ${target.endpoints.join(', ')}`, () => target.connect(signal));
  let runtimes: RuntimeInfo[] = [];
  try {
    runtimes = await listRuntimesPatiently(target, signal);
  } catch (error) {
    // A file of requests with versions does not need the runtime list; a built-in workload does.
    if (isBuiltinWorkload(options.workload) || target.kind === 'piston') {
      throw new BenchSetupError(redact(`listing runtimes of ${target.endpoints.join(', ')}: ${(error as Error).message}`));
    }
  }
  const workload = await step(`workload ${options.workload}`, () =>
    loadWorkload(options.workload, runtimes, target.kind === 'piston'),
  );
  context.log?.(`workload ${workload.name}: ${workload.items.map((i) => `${i.name} ×${i.weight}`).join(', ')}`);
  return workload;
}

/** A pistom that has just started may not have heard from its nodes yet: ask again for a while. */
async function listRuntimesPatiently(target: Target, signal: AbortSignal): Promise<RuntimeInfo[]> {
  const deadline = now() + RUNTIMES_PATIENCE_MS;
  for (;;) {
    const runtimes = await target.runtimes(signal);
    if (runtimes.length > 0 || now() >= deadline || signal.aborted) return runtimes;
    await sleep(250, signal);
  }
}

async function measure(
  target: Target,
  workload: Workload,
  options: ResolvedBenchOptions,
  redact: Redact,
  context: RunBenchContext,
): Promise<BenchReport> {
  const startedAt = new Date();
  const startMs = now();
  const gate = new LoadGate({
    startMs,
    warmupMs: options.warmupMs,
    warmupRequests: options.warmupRequests,
    durationMs: options.durationMs,
    requests: options.requests,
  });
  const cancelInFlight = new AbortController();
  let inFlight = 0;
  let driver: LoadRun | undefined;
  const recorder = new Recorder(
    { measureStartMs: () => gate.measureStartMs, inFlight: () => inFlight, waiting: () => driver?.waiting() ?? 0 },
    redact,
  );
  const pick = createPicker(workload.items, options.seed);

  const fire: Fire = async (dueMs, ticket) => {
    const item = pick();
    recorder.recordSent(ticket.measured, now());
    inFlight++;
    const outcome = await executeWithTimeout(target, item.request, options.timeoutMs, cancelInFlight.signal);
    inFlight--;
    const completedAtMs = now();
    recorder.record({ measured: ticket.measured, workload: item.name, latencyMs: completedAtMs - dueMs, completedAtMs, outcome });
  };

  const stopOnInterrupt = () => {
    gate.stop('interrupted');
    void sleep(Math.min(INTERRUPT_GRACE_MS, options.timeoutMs), cancelInFlight.signal).then(() =>
      cancelInFlight.abort('cancelled'),
    );
  };
  const cancelNow = () => cancelInFlight.abort('cancelled');
  if (context.signal?.aborted) stopOnInterrupt();
  context.signal?.addEventListener('abort', stopOnInterrupt, { once: true });
  context.forceSignal?.addEventListener('abort', cancelNow, { once: true });
  // Ends a measured phase bounded by duration even when no driver asks for a ticket at that moment.
  const durationWatch = watchDuration(gate);

  context.live?.start(() => recorder.live(now()), { title: describeLoad(options) });
  try {
    const driverContext = { gate, fire, rampMs: options.rampMs };
    driver =
      options.load.mode === 'closed'
        ? runClosedLoop(options.load.concurrency, driverContext)
        : runOpenLoop(options.load.rate, options.load.maxInFlight, driverContext);
    await driver.done;
  } finally {
    context.live?.stop();
    durationWatch.close();
    context.signal?.removeEventListener('abort', stopOnInterrupt);
    context.forceSignal?.removeEventListener('abort', cancelNow);
    cancelInFlight.abort('done');
  }

  const recorded = recorder.finish();
  const measureStart = gate.measureStartMs ?? recorded.firstSentMs ?? startMs;
  const elapsedMs = Math.max(0, (recorded.lastCompletedMs ?? measureStart) - measureStart);
  const perSec = (count: number) => (elapsedMs > 0 ? round2((count * 1000) / elapsedMs) : 0);
  const { lastCompletedMs: _last, firstSentMs: _first, latency, failedLatency, ...parts } = recorded;
  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    target: { kind: target.kind, endpoints: target.endpoints, headerNames: Object.keys(options.headers) },
    load: {
      ...options.load,
      durationMs: options.durationMs,
      requests: options.requests ?? null,
      warmupMs: options.warmupMs,
      warmupRequests: options.warmupRequests,
      rampMs: options.rampMs,
      timeoutMs: options.timeoutMs,
    },
    workload: {
      name: workload.name,
      items: workload.items.map((i) => ({
        name: i.name,
        language: i.request.language,
        version: i.request.version ?? null,
        weight: i.weight,
      })),
    },
    stoppedBy: gate.reason ?? 'duration',
    elapsedMs: round2(elapsedMs),
    ...parts,
    throughput: {
      sentPerSec: perSec(recorded.counts.sent),
      answeredPerSec: perSec(recorded.counts.answered),
      okPerSec: perSec(recorded.counts.classes.ok),
    },
    latencyMs: latency,
    failedLatencyMs: failedLatency,
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.availableParallelism() },
  };
  return report;
}

async function executeWithTimeout(
  target: Target,
  request: Parameters<Target['execute']>[0],
  timeoutMs: number,
  cancel: AbortSignal,
): Promise<Outcome> {
  if (cancel.aborted) return { class: 'cancelled', code: 'CANCELLED' };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort('timeout'), timeoutMs);
  const onCancel = () => controller.abort('cancelled');
  cancel.addEventListener('abort', onCancel, { once: true });
  try {
    return await target.execute(request, controller.signal);
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener('abort', onCancel);
  }
}

function watchDuration(gate: LoadGate): { close(): void } {
  const timer = setInterval(() => {
    gate.expire(now());
  }, 50);
  return { close: () => clearInterval(timer) };
}

export function describeLoad(options: ResolvedBenchOptions): string {
  const load =
    options.load.mode === 'closed'
      ? `closed loop, concurrency ${options.load.concurrency}`
      : `open loop, ${options.load.rate}/s`;
  return `${load}, workload ${options.workload}`;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
