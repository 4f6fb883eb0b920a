import { describe, expect, it } from 'vitest';
import { LoadGate } from '../../src/bench/load/gate.js';
import { dueOffsetMs } from '../../src/bench/load/timing.js';
import { splitCommandLine } from '../../src/bench/command-line.js';
import { Redactor } from '../../src/util/redact.js';
import { newHistogram, recordMs, summarize } from '../../src/bench/histogram.js';

describe('open-loop schedule', () => {
  it('is a constant interval without a ramp', () => {
    expect([0, 1, 2, 10].map((k) => dueOffsetMs(k, 100, 0))).toEqual([0, 10, 20, 100]);
  });

  it('rises linearly over the ramp, then continues at the full rate', () => {
    // 100/s ramped over 1 s: 50 requests during the ramp, the 50th due at 1 s.
    expect(dueOffsetMs(50, 100, 1000)).toBeCloseTo(1000, 6);
    expect(dueOffsetMs(60, 100, 1000)).toBeCloseTo(1100, 6);
    const gaps = [1, 10, 25, 49].map((k) => dueOffsetMs(k + 1, 100, 1000) - dueOffsetMs(k, 100, 1000));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeLessThan(gaps[i - 1]!);
  });
});

describe('load gate', () => {
  it('lets warm-up requests through first, then counts measured ones up to the bound', () => {
    const gate = new LoadGate({ startMs: 0, warmupMs: 0, warmupRequests: 2, durationMs: 10_000, requests: 3 });
    const tickets = Array.from({ length: 7 }, (_, i) => gate.next(i));
    expect(tickets.map((t) => (t === null ? null : t.measured))).toEqual([false, false, true, true, true, null, null]);
    expect(gate.reason).toBe('requests');
    expect(gate.measureStartMs).toBe(2);
  });

  it('ends by duration after a timed warm-up', () => {
    const gate = new LoadGate({ startMs: 0, warmupMs: 100, warmupRequests: 0, durationMs: 50, requests: undefined });
    expect(gate.next(99)).toEqual({ measured: false });
    expect(gate.next(100)).toEqual({ measured: true });
    expect(gate.next(149)).toEqual({ measured: true });
    expect(gate.next(150)).toBeNull();
    expect(gate.reason).toBe('duration');
  });

  it('stops on interrupt and wakes whoever waits on it', () => {
    const gate = new LoadGate({ startMs: 0, warmupMs: 0, warmupRequests: 0, durationMs: 1000, requests: undefined });
    gate.stop('interrupted');
    expect(gate.stopSignal.aborted).toBe(true);
    expect(gate.next(1)).toBeNull();
    expect(gate.reason).toBe('interrupted');
  });
});

describe('helpers', () => {
  it('splits a command line like a shell', () => {
    expect(splitCommandLine(`node dist/cli.js serve --backend "http://a b" 'x y' z\\ w`)).toEqual(['node', 'dist/cli.js', 'serve', '--backend', 'http://a b', 'x y', 'z w']);
    expect(() => splitCommandLine('"open')).toThrow(/unterminated/);
  });

  it('redacts header values and bearer tokens', () => {
    const redactor = new Redactor(Object.values({ Authorization: 'Bearer abc123', 'X-Key': 'k3y-v4lue' }));
    expect(redactor.redact('got abc123 and k3y-v4lue')).toBe('got [redacted] and [redacted]');
  });
});

describe('latency summary', () => {
  it('never shows a percentile above the largest value recorded (HdrHistogram buckets round up)', () => {
    const histogram = newHistogram();
    for (const ms of [1.2, 5.5, 42.9, 113.4, 113.4, 7.77]) recordMs(histogram, ms);
    const summary = summarize(histogram);
    for (const value of [summary.p50, summary.p90, summary.p99, summary.p99_9]) expect(value).toBeLessThanOrEqual(summary.max);
    expect(summary.max).toBeCloseTo(113.4, 0);
  });
});
