import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../src/bench/args.js';
import { parseDuration } from '../../src/bench/duration.js';

const target = ['--piston', 'http://127.0.0.1:2000'];

function errorOf(argv: string[]): string {
  const parsed = parseBenchArgs(argv);
  if (parsed.kind !== 'error') throw new Error(`expected an error, got ${parsed.kind}`);
  return parsed.message;
}

describe('pistom bench flags', () => {
  it('parses a full closed-loop run', () => {
    const parsed = parseBenchArgs([...target, '--piston', 'http://127.0.0.1:2001', '--concurrency', '16', '--duration', '30s', '--warmup', '5s', '--ramp', '2s', '--workload', 'mix', '--timeout', '10s', '--json', 'out.json', '--header', 'Authorization: Bearer x']);
    expect(parsed).toMatchObject({
      kind: 'run',
      run: {
        jsonFile: 'out.json',
        options: {
          target: { kind: 'piston', urls: ['http://127.0.0.1:2000', 'http://127.0.0.1:2001'] },
          concurrency: 16,
          durationMs: 30_000,
          warmupMs: 5000,
          rampMs: 2000,
          workload: 'mix',
          timeoutMs: 10_000,
          headers: { Authorization: 'Bearer x' },
        },
      },
    });
  });

  it('reads --warmup N as a number of requests and --rate as open loop', () => {
    const parsed = parseBenchArgs([...target, '--rate', '250.5', '--warmup', '100', '--requests', '1000']);
    expect(parsed).toMatchObject({ kind: 'run', run: { options: { rate: 250.5, warmupRequests: 100, requests: 1000 } } });
  });

  it('names the flag and what it allows', () => {
    expect(errorOf([...target, '--concurrency', '0'])).toMatch(/--concurrency must be a whole number from 1 to 4096/);
    expect(errorOf([...target, '--rate', 'fast'])).toMatch(/--rate must be a number above 0/);
    expect(errorOf([...target, '--duration', '10 years'])).toMatch(/--duration must be a duration like 500ms, 30s or 2m/);
    expect(errorOf([...target, '--workload', 'nope'])).toMatch(/--workload must be one of hello, cpu, sleep, compile, mix/);
    expect(errorOf([...target, '--workload', 'missing.json'])).toMatch(/no such file/);
    expect(errorOf([...target, '--bogus'])).toMatch(/unknown flag --bogus; allowed: --piston/);
    expect(errorOf([...target, '--concurrency'])).toMatch(/--concurrency needs a value/);
    expect(errorOf([...target, '--concurrency', '4', '--rate', '10'])).toMatch(/exclusive/);
    expect(errorOf([])).toMatch(/a target is needed/);
    expect(errorOf([...target, '--mcp', 'http://127.0.0.1:1/mcp'])).toMatch(/--piston and --mcp are exclusive/);
    expect(errorOf(['--piston', 'ftp://x'])).toMatch(/--piston needs an http/);
    expect(errorOf(['--mcp-stdio', 'pistom serve', '--header', 'A: b'])).toMatch(/--header applies to --piston and --mcp/);
    expect(errorOf([...target, '--html', '-'])).toMatch(/--html needs a file name/);
  });

  it('never echoes a header value in an error', () => {
    expect(errorOf([...target, '--header', 'Bearer-only-s3cret'])).not.toContain('s3cret');
    expect(errorOf([...target, '--header', 'Bad Name: s3cret'])).not.toContain('s3cret');
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('3')).toBe(3000);
    expect(parseDuration('x')).toBeUndefined();
  });
});
