/**
 * Accounts for every request of a run: counts per outcome class, HDR latency histograms overall,
 * per node and per workload item, pistom's queue wait against run time, error samples, and a
 * per-second time series by completion time. Warm-up requests are counted apart and nowhere else.
 */
import {
  encodeHistogram,
  newHistogram,
  percentileCurve,
  recordMs,
  samplePercentile,
  summarize,
  type Histogram,
  type LatencySummary,
  type PercentilePoint,
} from './histogram.js';
import { OUTCOME_CLASSES, isAnswered, type Outcome, type OutcomeClass } from './outcome.js';
/** Removes secrets (header values, URL credentials) from text the bench prints or writes. */
export type Redact = (text: string) => string;

export type ClassCounts = Record<OutcomeClass, number>;

export interface Completion {
  measured: boolean;
  workload: string;
  /** From when the request was due to when its outcome was known. */
  latencyMs: number;
  completedAtMs: number;
  outcome: Outcome;
}

export interface TimelinePoint {
  /** Seconds since the measured phase began; the point covers [t, t+1). */
  t: number;
  /** How much of the second the run covered (less than 1000 for the last, partial second). */
  spanMs: number;
  sent: number;
  answered: number;
  failed: number;
  inFlight: number;
  p50: number;
  p99: number;
  max: number;
}

export interface NodeStats {
  node: string;
  requests: number;
  share: number;
  answered: number;
  classes: ClassCounts;
  latency: LatencySummary;
  queuedMs: LatencySummary | null;
  runMs: LatencySummary | null;
}

export interface WorkloadStats {
  name: string;
  requests: number;
  answered: number;
  latency: LatencySummary;
}

export interface ErrorSample {
  class: OutcomeClass;
  code: string;
  message: string;
  count: number;
}

export interface LiveStats {
  elapsedMs: number;
  sent: number;
  completed: number;
  answered: number;
  failed: number;
  inFlight: number;
  waiting: number;
  warmup: boolean;
  p50: number;
  p99: number;
}

export interface RecordedRun {
  counts: { sent: number; answered: number; failed: number; unattributed: number; warmup: number } & {
    classes: ClassCounts;
  };
  latency: LatencySummary;
  failedLatency: LatencySummary;
  percentiles: PercentilePoint[];
  histogram: string;
  nodes: NodeStats[];
  workloads: WorkloadStats[];
  queueVsRun: { queuedMs: LatencySummary; runMs: LatencySummary } | null;
  errors: ErrorSample[];
  timeline: TimelinePoint[];
  firstSentMs: number | undefined;
  lastCompletedMs: number | undefined;
}

const MAX_ERROR_SAMPLES = 20;

export const emptyClassCounts = (): ClassCounts =>
  Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])) as ClassCounts;

interface NodeAccumulator {
  classes: ClassCounts;
  latency: Histogram;
  queued: Histogram;
  run: Histogram;
}

interface SecondBucket {
  second: number;
  answered: number;
  failed: number;
  latencies: number[];
}

export interface RecorderHooks {
  /** When the measured phase began; undefined while warming up. */
  measureStartMs(): number | undefined;
  inFlight(): number;
  waiting(): number;
}

export class Recorder {
  private readonly classes = emptyClassCounts();
  private sent = 0;
  private warmupSent = 0;
  private unattributed = 0;
  private readonly latency = newHistogram();
  private readonly failedLatency = newHistogram();
  private readonly queued = newHistogram();
  private readonly run = newHistogram();
  private readonly nodes = new Map<string, NodeAccumulator>();
  private readonly workloads = new Map<string, { requests: number; answered: number; latency: Histogram }>();
  private readonly errors = new Map<string, ErrorSample>();
  private readonly timeline: TimelinePoint[] = [];
  private bucket: SecondBucket | undefined;
  private sentAtLastPoint = 0;
  private firstSentMs: number | undefined;
  private lastCompletedMs: number | undefined;

  constructor(
    private readonly hooks: RecorderHooks,
    private readonly redact: Redact,
  ) {}

  recordSent(measured: boolean, atMs: number): void {
    if (!measured) {
      this.warmupSent++;
      return;
    }
    this.sent++;
    this.firstSentMs ??= atMs;
  }

  record(completion: Completion): void {
    if (!completion.measured) return;
    const { outcome, latencyMs } = completion;
    const answered = isAnswered(outcome.class);
    this.classes[outcome.class]++;
    this.lastCompletedMs = Math.max(this.lastCompletedMs ?? 0, completion.completedAtMs);
    recordMs(answered ? this.latency : this.failedLatency, latencyMs);
    this.recordNode(outcome, answered, latencyMs);
    this.recordWorkload(completion.workload, answered, latencyMs);
    if (outcome.queuedMs !== undefined) recordMs(this.queued, outcome.queuedMs);
    if (outcome.runMs !== undefined) recordMs(this.run, outcome.runMs);
    if (outcome.class !== 'ok') this.recordError(outcome);
    this.recordSecond(completion, answered);
  }

  live(nowMs: number): LiveStats {
    const start = this.hooks.measureStartMs();
    const answered = this.classes.ok + this.classes.program_error;
    const completed = this.completedCount();
    return {
      elapsedMs: start === undefined ? 0 : Math.max(0, nowMs - start),
      sent: this.sent,
      completed,
      answered,
      failed: completed - answered,
      inFlight: this.hooks.inFlight(),
      waiting: this.hooks.waiting(),
      warmup: start === undefined,
      p50: this.latency.totalCount ? this.latency.getValueAtPercentile(50) / 1000 : 0,
      p99: this.latency.totalCount ? this.latency.getValueAtPercentile(99) / 1000 : 0,
    };
  }

  finish(): RecordedRun {
    this.closeBucket();
    const answered = this.classes.ok + this.classes.program_error;
    const nodeTotal = [...this.nodes.values()].reduce((sum, n) => sum + sumCounts(n.classes), 0);
    const nodes = [...this.nodes.entries()]
      .map(([node, acc]): NodeStats => {
        const requests = sumCounts(acc.classes);
        return {
          node,
          requests,
          share: nodeTotal === 0 ? 0 : requests / nodeTotal,
          answered: acc.classes.ok + acc.classes.program_error,
          classes: acc.classes,
          latency: summarize(acc.latency),
          queuedMs: acc.queued.totalCount ? summarize(acc.queued) : null,
          runMs: acc.run.totalCount ? summarize(acc.run) : null,
        };
      })
      .sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }));
    return {
      counts: {
        sent: this.sent,
        answered,
        failed: this.completedCount() - answered,
        unattributed: this.unattributed,
        warmup: this.warmupSent,
        classes: { ...this.classes },
      },
      latency: summarize(this.latency),
      failedLatency: summarize(this.failedLatency),
      percentiles: percentileCurve(this.latency),
      histogram: encodeHistogram(this.latency),
      nodes,
      workloads: [...this.workloads.entries()].map(([name, w]) => ({
        name,
        requests: w.requests,
        answered: w.answered,
        latency: summarize(w.latency),
      })),
      queueVsRun:
        this.queued.totalCount > 0 || this.run.totalCount > 0
          ? { queuedMs: summarize(this.queued), runMs: summarize(this.run) }
          : null,
      errors: [...this.errors.values()].sort((a, b) => b.count - a.count).slice(0, MAX_ERROR_SAMPLES),
      timeline: this.timeline,
      firstSentMs: this.firstSentMs,
      lastCompletedMs: this.lastCompletedMs,
    };
  }

  private completedCount(): number {
    return sumCounts(this.classes);
  }

  private recordNode(outcome: Outcome, answered: boolean, latencyMs: number): void {
    if (outcome.node === undefined) {
      this.unattributed++;
      return;
    }
    let acc = this.nodes.get(outcome.node);
    if (!acc) {
      acc = { classes: emptyClassCounts(), latency: newHistogram(), queued: newHistogram(), run: newHistogram() };
      this.nodes.set(outcome.node, acc);
    }
    acc.classes[outcome.class]++;
    if (answered) recordMs(acc.latency, latencyMs);
    if (outcome.queuedMs !== undefined) recordMs(acc.queued, outcome.queuedMs);
    if (outcome.runMs !== undefined) recordMs(acc.run, outcome.runMs);
  }

  private recordWorkload(name: string, answered: boolean, latencyMs: number): void {
    let acc = this.workloads.get(name);
    if (!acc) {
      acc = { requests: 0, answered: 0, latency: newHistogram() };
      this.workloads.set(name, acc);
    }
    acc.requests++;
    if (answered) {
      acc.answered++;
      recordMs(acc.latency, latencyMs);
    }
  }

  private recordError(outcome: Outcome): void {
    const code = outcome.code ?? outcome.class;
    const message = this.redact(outcome.message ?? '');
    const key = `${outcome.class}\u0000${code}\u0000${message}`;
    const sample = this.errors.get(key);
    if (sample) sample.count++;
    else if (this.errors.size < 1000) this.errors.set(key, { class: outcome.class, code: this.redact(code), message, count: 1 });
  }

  private recordSecond(completion: Completion, answered: boolean): void {
    const start = this.hooks.measureStartMs() ?? completion.completedAtMs;
    const second = Math.max(0, Math.floor((completion.completedAtMs - start) / 1000));
    if (this.bucket && second > this.bucket.second) this.closeBucket(second);
    this.bucket ??= { second, answered: 0, failed: 0, latencies: [] };
    if (answered) {
      this.bucket.answered++;
      this.bucket.latencies.push(completion.latencyMs);
    } else {
      this.bucket.failed++;
    }
  }

  /** Turns the open second into a timeline point, with empty points for seconds without completions. */
  private closeBucket(nextSecond?: number): void {
    const bucket = this.bucket;
    if (!bucket) return;
    const sorted = bucket.latencies.sort((a, b) => a - b);
    const start = this.hooks.measureStartMs() ?? 0;
    const covered = nextSecond === undefined ? (this.lastCompletedMs ?? start) - start - bucket.second * 1000 : 1000;
    this.timeline.push({
      t: bucket.second,
      spanMs: Math.round(Math.min(1000, Math.max(1, covered))),
      sent: this.sent - this.sentAtLastPoint,
      answered: bucket.answered,
      failed: bucket.failed,
      inFlight: this.hooks.inFlight(),
      p50: round3(samplePercentile(sorted, 50)),
      p99: round3(samplePercentile(sorted, 99)),
      max: round3(sorted.at(-1) ?? 0),
    });
    this.sentAtLastPoint = this.sent;
    for (let s = bucket.second + 1; nextSecond !== undefined && s < nextSecond; s++) {
      this.timeline.push({ t: s, spanMs: 1000, sent: 0, answered: 0, failed: 0, inFlight: this.hooks.inFlight(), p50: 0, p99: 0, max: 0 });
    }
    this.bucket = undefined;
  }
}

function sumCounts(counts: ClassCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
