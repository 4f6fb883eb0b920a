/** HDR histograms of latencies recorded in microseconds and summarised in milliseconds. */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
  stddev: number;
}

export interface PercentilePoint {
  percentile: number;
  ms: number;
}

export function newHistogram(): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3 });
}

export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
}

const toMs = (us: number) => Math.round(us) / 1000;

export function summarize(histogram: Histogram): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0, stddev: 0 };
  // HdrHistogram reports a percentile as the top of its bucket, which can lie just above the largest
  // value recorded: no percentile is shown above the maximum.
  const max = histogram.maxValue;
  const at = (percentile: number) => toMs(Math.min(histogram.getValueAtPercentile(percentile), max));
  return {
    count,
    min: at(0),
    mean: toMs(histogram.mean),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p99_9: at(99.9),
    max: toMs(max),
    stddev: toMs(histogram.stdDeviation),
  };
}

/**
 * The percentile distribution as HdrHistogram prints it: percentiles halving the remaining
 * distance to 100% in `ticksPerHalf` steps, as far as the sample count resolves, then the max.
 */
export function percentileCurve(histogram: Histogram, ticksPerHalf = 5): PercentilePoint[] {
  const count = histogram.totalCount;
  if (count === 0) return [];
  const points: PercentilePoint[] = [];
  for (let i = 0; ; i++) {
    const percentile = 100 * (1 - 0.5 ** (i / ticksPerHalf));
    if (percentile > 99.9999 || (1 - percentile / 100) * count < 1) break;
    points.push({ percentile: round(percentile, 6), ms: toMs(histogram.getValueAtPercentile(percentile)) });
  }
  points.push({ percentile: 100, ms: toMs(histogram.maxValue) });
  return points;
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Exact percentile of a small sorted sample (nearest rank). */
export function samplePercentile(sorted: number[], percentile: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((percentile / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}
