import type { LatencySummary, PercentilePoint } from '../histogram.js';
import type { StopReason } from '../load/gate.js';
import type { LoadShape } from '../options.js';
import type { ClassCounts, ErrorSample, NodeStats, TimelinePoint, WorkloadStats } from '../recorder.js';

export const REPORT_SCHEMA = 'pistom-bench/1';

/** Everything one run measured; `--json` writes exactly this. Latencies are in milliseconds. */
export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  startedAt: string;
  finishedAt: string;
  target: {
    kind: 'piston' | 'mcp-http' | 'mcp-stdio';
    endpoints: string[];
    /** Names only: header values are never written. */
    headerNames: string[];
  };
  load: LoadShape & {
    durationMs: number;
    requests: number | null;
    warmupMs: number;
    warmupRequests: number;
    rampMs: number;
    timeoutMs: number;
  };
  workload: { name: string; items: { name: string; language: string; version: string | null; weight: number }[] };
  stoppedBy: StopReason;
  /** The measured phase: from its first request's due time to its last completion. */
  elapsedMs: number;
  counts: {
    /** sent = answered + failed, always. */
    sent: number;
    answered: number;
    failed: number;
    /** Completed measured requests with no node named (failures through pistom, which names nodes only on success). */
    unattributed: number;
    /** Warm-up requests sent; counted nowhere else. */
    warmup: number;
    classes: ClassCounts;
  };
  throughput: { sentPerSec: number; answeredPerSec: number; okPerSec: number };
  /** Latency of answered requests (ok + program_error), from when each was due. */
  latencyMs: LatencySummary;
  /** Latency of failed requests, kept apart so fast refusals do not flatter the main figures. */
  failedLatencyMs: LatencySummary;
  percentiles: PercentilePoint[];
  /** The answered-latency HDR histogram (µs), compressed base64, for re-analysis. */
  histogram: string;
  nodes: NodeStats[];
  workloads: WorkloadStats[];
  /** pistom's queue wait against the nodes' run time, when the target reports them. */
  queueVsRun: { queuedMs: LatencySummary; runMs: LatencySummary } | null;
  errors: ErrorSample[];
  timeline: TimelinePoint[];
  environment: { node: string; platform: string; cpus: number };
}
