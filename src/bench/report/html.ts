/**
 * One self-contained HTML page: the run's data embedded as JSON, summary tables rendered here,
 * and charts drawn in the browser by an inline script. No network: a CSP forbids it outright.
 */
import { writeFile } from 'node:fs/promises';
import { formatDuration } from '../duration.js';
import type { LatencySummary } from '../histogram.js';
import { OUTCOME_CLASSES, OUTCOME_DESCRIPTIONS } from '../outcome.js';
import { formatCount, formatMs, formatPercent, formatRate, latencyOrigin } from './format.js';
import { CHARTS_SCRIPT } from './html-charts.js';
import type { BenchReport } from './types.js';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 820px; color: #1d2330; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #dde; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eef; }
td:first-child, th:first-child { text-align: left; } th { font-weight: 600; color: #445; }
.meta td, #outcomes-table td:last-child, #errors-table td:last-child { text-align: left; } .muted { color: #667; } .figure { display: block; margin: 8px 0; }
svg .grid { stroke: #e6e8ef; stroke-width: 1; } svg .label { font-size: 11px; fill: #445; }
svg .axis-title { font-size: 11px; fill: #667; } svg .legend { font-size: 12px; font-weight: 600; }
svg .empty { font-size: 14px; fill: #889; }
svg polyline.series { fill: none; stroke-width: 2; } svg .p50 { stroke: #2f6fde; fill: #2f6fde; } svg .p99 { stroke: #d9480f; fill: #d9480f; }
svg .answered { stroke: #2b8a3e; fill: #2b8a3e; } svg .failed { stroke: #c92a2a; fill: #c92a2a; } svg .pct { stroke: #6741d9; }
svg .max-line { stroke: #c92a2a; stroke-dasharray: 4 3; } svg .legend.answered, svg .legend.failed { stroke: none; }
svg .legend.p50, svg .legend.p99 { stroke: none; }
svg .node-share-bar { fill: #5c7cfa; } svg .node-p50-bar { fill: #2f6fde; } svg .node-p99-bar { fill: #ff922b; }
`;

export function renderHtmlReport(report: BenchReport): string {
  const title = `pistom bench: ${report.target.kind} ${report.target.endpoints.join(', ')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>pistom bench report</h1>
<div class="muted">${escapeHtml(report.startedAt)} · ${escapeHtml(report.environment.node)} · ${report.environment.cpus} CPUs</div>
${summary(report)}
<h2>Latency over time</h2>
<svg id="chart-latency-over-time" class="figure" role="img" aria-label="p50 and p99 latency per second"></svg>
<svg id="chart-throughput-over-time" class="figure" role="img" aria-label="answered and failed requests per second"></svg>
<h2>Percentile distribution</h2>
<svg id="chart-percentiles" class="figure" role="img" aria-label="latency by percentile"></svg>
<h2>Nodes</h2>
<svg id="chart-nodes" class="figure" role="img" aria-label="share and latency of each node"></svg>
${nodesTable(report)}
${outcomesTable(report)}
${errorsTable(report)}
<noscript><p>The charts need JavaScript; the tables above hold the same figures.</p></noscript>
<script type="application/json" id="bench-data">${embedJson(report)}</script>
<script>${CHARTS_SCRIPT}</script>
</body>
</html>
`;
}

export async function writeHtmlReport(report: BenchReport, file: string): Promise<void> {
  await writeFile(file, renderHtmlReport(report), 'utf8');
}

/** JSON that cannot close the script element or break out of it. */
function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function row(cells: string[], header = false): string {
  const tag = header ? 'th' : 'td';
  return `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
}

function summary(report: BenchReport): string {
  const { load, counts, throughput } = report;
  const shape = load.mode === 'closed' ? `closed loop, concurrency ${load.concurrency}` : `open loop, ${load.rate}/s`;
  const meta = [
    ['target', `${report.target.kind} ${report.target.endpoints.join(', ')}`],
    ['load', `${shape}; warm-up ${formatDuration(load.warmupMs)}${load.warmupRequests ? ` + ${load.warmupRequests} requests` : ''}; ramp ${formatDuration(load.rampMs)}`],
    ['workload', `${report.workload.name}: ${report.workload.items.map((i) => `${i.name} ×${i.weight}`).join(', ')}`],
    ['stopped', `by ${report.stoppedBy} after ${formatDuration(report.elapsedMs)} measured`],
    ['requests', `sent ${formatCount(counts.sent)} = answered ${formatCount(counts.answered)} + failed ${formatCount(counts.failed)}`],
    ['throughput', `${formatRate(throughput.answeredPerSec)} answered, ${formatRate(throughput.sentPerSec)} sent`],
  ];
  return `<table class="meta">${meta.map((r) => row(r)).join('')}</table>
<h2>Latency (answered requests, ${latencyOrigin(report.load)})</h2>
<table id="latency-table">${row(['', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'], true)}${latencyRow('answered', report.latencyMs)}${
    report.failedLatencyMs.count ? latencyRow('failed', report.failedLatencyMs) : ''
  }${report.queueVsRun?.queuedMs.count ? latencyRow('queue wait (pistom)', report.queueVsRun.queuedMs) : ''}${
    report.queueVsRun?.runMs.count ? latencyRow('run time (node)', report.queueVsRun.runMs) : ''
  }</table>`;
}

function latencyRow(name: string, s: LatencySummary): string {
  return row([name, ...[s.p50, s.p90, s.p99, s.p99_9, s.max, s.mean].map(formatMs)]);
}

function nodesTable(report: BenchReport): string {
  if (report.nodes.length === 0) return '';
  return `<table id="nodes-table">${row(['node', 'requests', 'share', 'failed', 'p50', 'p99', 'max'], true)}${report.nodes
    .map((n) =>
      row([n.node, formatCount(n.requests), formatPercent(n.share), formatCount(n.requests - n.answered), formatMs(n.latency.p50), formatMs(n.latency.p99), formatMs(n.latency.max)]),
    )
    .join('')}</table>`;
}

function outcomesTable(report: BenchReport): string {
  return `<h2>Outcomes</h2><table id="outcomes-table">${row(['class', 'count', 'of sent', ''], true)}${OUTCOME_CLASSES.map((c) =>
    row([c, formatCount(report.counts.classes[c]), report.counts.sent ? formatPercent(report.counts.classes[c] / report.counts.sent) : '-', OUTCOME_DESCRIPTIONS[c]]),
  ).join('')}</table>`;
}

function errorsTable(report: BenchReport): string {
  if (report.errors.length === 0) return '';
  return `<h2>Most frequent non-ok outcomes</h2><table id="errors-table">${row(['class', 'code', 'count', 'message'], true)}${report.errors
    .map((e) => row([e.class, e.code, formatCount(e.count), e.message]))
    .join('')}</table>`;
}
