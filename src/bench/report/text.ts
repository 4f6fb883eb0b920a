/** The human-readable report printed at the end of a run. */
import { formatDuration } from '../duration.js';
import type { LatencySummary } from '../histogram.js';
import { OUTCOME_CLASSES, OUTCOME_DESCRIPTIONS } from '../outcome.js';
import { formatCount, formatMs, formatPercent, formatRate, latencyOrigin, table } from './format.js';
import type { BenchReport } from './types.js';

export function renderTextReport(report: BenchReport): string {
  const sections = [
    header(report),
    requests(report),
    latency(report),
    outcomes(report),
    nodes(report),
    workloads(report),
    queueVsRun(report),
    errors(report),
  ];
  return `${sections.filter((s) => s.length > 0).join('\n\n')}\n`;
}

function header(report: BenchReport): string {
  const { target, load } = report;
  const shape = load.mode === 'closed' ? `closed loop, concurrency ${load.concurrency}` : `open loop, ${load.rate}/s (at most ${load.maxInFlight} in flight)`;
  const bounds = [
    load.requests !== null ? `${formatCount(load.requests)} requests` : undefined,
    `at most ${formatDuration(load.durationMs)}`,
    load.warmupMs > 0 ? `after ${formatDuration(load.warmupMs)} warm-up` : undefined,
    load.warmupRequests > 0 ? `after ${formatCount(load.warmupRequests)} warm-up requests` : undefined,
    load.rampMs > 0 ? `ramp ${formatDuration(load.rampMs)}` : undefined,
    `timeout ${formatDuration(load.timeoutMs)}`,
  ].filter(Boolean);
  const rows = [
    ['target', `${target.kind} ${target.endpoints.join(', ')}`],
    ...(target.headerNames.length ? [['headers', target.headerNames.join(', ')]] : []),
    ['load', `${shape}; ${bounds.join(', ')}`],
    ['workload', `${report.workload.name}: ${report.workload.items.map((i) => `${i.name} ×${i.weight}`).join(', ')}`],
    ['stopped', `by ${report.stoppedBy} after ${formatDuration(report.elapsedMs)} measured`],
  ];
  return `pistom bench report\n${table(rows, 99)}`;
}

function requests(report: BenchReport): string {
  const { counts, throughput } = report;
  const warm = counts.warmup > 0 ? `   (warm-up: ${formatCount(counts.warmup)} more, not counted)` : '';
  return [
    `requests    sent ${formatCount(counts.sent)} = answered ${formatCount(counts.answered)} + failed ${formatCount(counts.failed)}${warm}`,
    `throughput  ${formatRate(throughput.answeredPerSec)} answered, ${formatRate(throughput.okPerSec)} ok, ${formatRate(throughput.sentPerSec)} sent`,
  ].join('\n');
}

export function latencyLine(s: LatencySummary): string {
  return `p50 ${formatMs(s.p50)}  p90 ${formatMs(s.p90)}  p99 ${formatMs(s.p99)}  p99.9 ${formatMs(s.p99_9)}  max ${formatMs(s.max)}  (mean ${formatMs(s.mean)})`;
}

function latency(report: BenchReport): string {
  const lines = [`latency of answered requests, ${latencyOrigin(report.load)} (HDR histogram, ${formatCount(report.latencyMs.count)} samples)`];
  lines.push(`  ${report.latencyMs.count > 0 ? latencyLine(report.latencyMs) : 'no answered requests'}`);
  if (report.failedLatencyMs.count > 0) lines.push(`  failed requests: ${latencyLine(report.failedLatencyMs)}`);
  return lines.join('\n');
}

function outcomes(report: BenchReport): string {
  const shown = OUTCOME_CLASSES.filter((c) => report.counts.classes[c] > 0 || c === 'ok');
  const rows = shown.map((c) => [
    `  ${c}`,
    formatCount(report.counts.classes[c]),
    report.counts.sent ? formatPercent(report.counts.classes[c] / report.counts.sent) : '-',
  ]);
  const lines = table(rows).split('\n');
  return `outcomes\n${lines.map((line, i) => `${line}   ${OUTCOME_DESCRIPTIONS[shown[i]!]}`).join('\n')}`;
}

function nodes(report: BenchReport): string {
  if (report.nodes.length === 0) return '';
  const withQueue = report.nodes.some((n) => n.queuedMs);
  const withRun = report.nodes.some((n) => n.runMs);
  const rows = [
    ['  node', 'requests', 'share', 'failed', 'p50', 'p90', 'p99', 'max', ...(withQueue ? ['queued p50'] : []), ...(withRun ? ['run p50'] : [])],
    ...report.nodes.map((n) => [
      `  ${n.node}`,
      formatCount(n.requests),
      formatPercent(n.share),
      formatCount(n.requests - n.answered),
      formatMs(n.latency.p50),
      formatMs(n.latency.p90),
      formatMs(n.latency.p99),
      formatMs(n.latency.max),
      ...(withQueue ? [n.queuedMs ? formatMs(n.queuedMs.p50) : '-'] : []),
      ...(withRun ? [n.runMs ? formatMs(n.runMs.p50) : '-'] : []),
    ]),
  ];
  const note = report.counts.unattributed > 0 ? `\n  (${formatCount(report.counts.unattributed)} requests named no node)` : '';
  return `nodes (latency of answered requests)\n${table(rows)}${note}`;
}

function workloads(report: BenchReport): string {
  if (report.workloads.length < 2) return '';
  const rows = [
    ['  request', 'sent', 'answered', 'p50', 'p99', 'max'],
    ...report.workloads.map((w) => [
      `  ${w.name}`,
      formatCount(w.requests),
      formatCount(w.answered),
      formatMs(w.latency.p50),
      formatMs(w.latency.p99),
      formatMs(w.latency.max),
    ]),
  ];
  return `per request kind\n${table(rows)}`;
}

function queueVsRun(report: BenchReport): string {
  const q = report.queueVsRun;
  if (!q) return '';
  const rows = [
    ['', 'p50', 'p90', 'p99', 'max', 'mean'],
    ...(
      [
        ['  queue wait (pistom)', q.queuedMs],
        ['  run time (node)', q.runMs],
      ] as const
    )
      .filter(([, s]) => s.count > 0)
      .map(([label, s]) => [label, formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.max), formatMs(s.mean)]),
  ];
  return `queue wait against run time\n${table(rows)}`;
}

function errors(report: BenchReport): string {
  if (report.errors.length === 0) return '';
  const rows = report.errors.slice(0, 10).map((e) => `  ${e.class}  ${e.code}  ×${formatCount(e.count)}${e.message ? `  ${e.message}` : ''}`);
  return `most frequent non-ok outcomes\n${rows.join('\n')}`;
}
