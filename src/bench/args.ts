/**
 * `pistom bench` command-line flags → run options, with a clear message naming the flag and
 * what it allows whenever something is wrong. Header values never appear in a message.
 */
import { existsSync } from 'node:fs';
import { formatDuration, parseDuration } from './duration.js';
import { DEFAULTS, LIMITS, type BenchOptionsInput } from './options.js';
import { BUILTIN_WORKLOADS, isBuiltinWorkload } from './workloads.js';
import { isHeaderName } from '../util/http-names.js';
import { parseFlags, UsageError } from '../util/usage.js';

export const HELP = `pistom bench: load-test Piston nodes or pistom, and report what they hold.

Usage:
  pistom bench --piston URL [--piston URL ...] [options]   Piston nodes directly (compares them)
  pistom bench --mcp URL [options]                          pistom over Streamable HTTP (e.g. http://127.0.0.1:8080/mcp)
  pistom bench --mcp-stdio "COMMAND" [options]              pistom over stdio (e.g. "pistom serve --backend URL")
  pistom bench compare A.json B.json                        two runs side by side, with ratios

Load (closed loop by default):
  --concurrency N      closed loop: N requests outstanding at all times (1-${LIMITS.maxConcurrency}, default ${DEFAULTS.concurrency})
  --rate R             open loop: R requests per second at a constant arrival rate (up to ${LIMITS.maxRate});
                       latency counts from when each request was due (no coordinated omission)
  --max-in-flight N    open loop: at most N at the target, the rest wait and their wait counts (default ${DEFAULTS.maxInFlight})
  --duration D         measured time, e.g. 500ms, 30s, 2m (default ${formatDuration(DEFAULTS.durationMs)}, at most 1h)
  --requests N         measured requests (stops at whichever of --duration/--requests comes first)
  --warmup 5s|N        a warm-up of that time or that many requests, not counted
  --ramp D             raise the load linearly from zero over D (counted unless inside --warmup)
  --timeout D          per-request timeout (default ${formatDuration(DEFAULTS.timeoutMs)})

Workload:
  --workload W         ${BUILTIN_WORKLOADS.join(' | ')} (fitted to the target's runtimes; default ${DEFAULTS.workload}),
                       or FILE.json / FILE.jsonl of requests:
                       {"language":"python","code":"print(1)","weight":3} or {"language":..,"files":[..],"stdin":..}

Target:
  --header "Name: value"   sent with every HTTP request, e.g. Authorization (repeatable; values are never printed)

Output:
  --json FILE          write the full report as JSON (FILE "-" = stdout; the text report then goes to stderr)
  --html FILE          write a self-contained HTML report with charts
  --quiet              no live view or progress on stderr
  --help               this text

Ctrl-C ends the run early and still reports what was done (exit 130); a second Ctrl-C cancels requests in flight.
Exit codes: 0 done, 1 the run could not start or a report could not be written, 2 bad flags, 130 interrupted.
`;

export interface CliRun {
  options: BenchOptionsInput;
  jsonFile: string | undefined;
  htmlFile: string | undefined;
  quiet: boolean;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'run'; run: CliRun } | { kind: 'error'; message: string };

const FLAGS = {
  piston: { type: 'string', multiple: true },
  mcp: { type: 'string' },
  'mcp-stdio': { type: 'string' },
  header: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  'max-in-flight': { type: 'string' },
  duration: { type: 'string' },
  requests: { type: 'string' },
  warmup: { type: 'string' },
  ramp: { type: 'string' },
  workload: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseBenchArgs(argv: string[]): ParsedArgs {
  try {
    return parseOrThrow(argv);
  } catch (error) {
    if (error instanceof UsageError) return { kind: 'error', message: error.message };
    throw error;
  }
}

function parseOrThrow(argv: string[]): ParsedArgs {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) return { kind: 'help' };

  const targetKinds = [values.piston?.length ? '--piston' : '', values.mcp !== undefined ? '--mcp' : '', values['mcp-stdio'] !== undefined ? '--mcp-stdio' : ''].filter(Boolean);
  if (targetKinds.length === 0) throw new UsageError('a target is needed: --piston URL (repeatable), --mcp URL or --mcp-stdio "command"');
  if (targetKinds.length > 1) throw new UsageError(`${targetKinds.join(' and ')} are exclusive: bench one kind of target at a time`);

  const target: BenchOptionsInput['target'] = values.piston?.length
    ? { kind: 'piston', urls: checkPistonUrls(values.piston) }
    : values.mcp !== undefined
      ? { kind: 'mcp-http', url: checkUrl('--mcp', values.mcp) }
      : { kind: 'mcp-stdio', command: checkCommand(values['mcp-stdio']!) };

  const headers = parseHeaders(values.header ?? []);
  if (target.kind === 'mcp-stdio' && Object.keys(headers).length > 0) {
    throw new UsageError('--header applies to --piston and --mcp (HTTP) targets, not to --mcp-stdio');
  }
  if (values.concurrency !== undefined && values.rate !== undefined) {
    throw new UsageError('--concurrency (closed loop) and --rate (open loop) are exclusive: pick one');
  }

  const warmup = values.warmup === undefined ? {} : parseWarmup(values.warmup);
  const options: BenchOptionsInput = {
    target,
    headers,
    ...(values.concurrency !== undefined ? { concurrency: int('--concurrency', values.concurrency, 1, LIMITS.maxConcurrency) } : {}),
    ...(values.rate !== undefined ? { rate: positiveNumber('--rate', values.rate, LIMITS.maxRate) } : {}),
    ...(values['max-in-flight'] !== undefined ? { maxInFlight: int('--max-in-flight', values['max-in-flight'], 1, LIMITS.maxInFlight) } : {}),
    ...(values.duration !== undefined ? { durationMs: duration('--duration', values.duration, LIMITS.maxDurationMs) } : {}),
    ...(values.requests !== undefined ? { requests: int('--requests', values.requests, 1, LIMITS.maxRequests) } : {}),
    ...warmup,
    ...(values.ramp !== undefined ? { rampMs: duration('--ramp', values.ramp, LIMITS.maxDurationMs, true) } : {}),
    ...(values.timeout !== undefined ? { timeoutMs: duration('--timeout', values.timeout, LIMITS.maxTimeoutMs) } : {}),
    ...(values.workload !== undefined ? { workload: checkWorkload(values.workload) } : {}),
  };
  if (values.html === '-') throw new UsageError('--html needs a file name (the page is not written to stdout)');
  for (const flag of ['json', 'html'] as const) {
    if (values[flag] !== undefined && values[flag].trim() === '') throw new UsageError(`--${flag} needs a file name`);
  }
  return { kind: 'run', run: { options, jsonFile: values.json, htmlFile: values.html, quiet: values.quiet ?? false } };
}

function checkUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} needs an http:// or https:// URL (got something that is not a URL)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} needs an http:// or https:// URL (got a ${url.protocol} URL)`);
  }
  return text;
}

function checkPistonUrls(urls: string[]): string[] {
  if (urls.length > LIMITS.maxNodes) throw new UsageError(`--piston: at most ${LIMITS.maxNodes} nodes`);
  const checked = urls.map((u) => checkUrl('--piston', u));
  if (new Set(checked.map((u) => new URL(u).href)).size !== checked.length) {
    throw new UsageError('--piston: the same node is given twice');
  }
  return checked;
}

function checkCommand(command: string): string {
  if (command.trim() === '') throw new UsageError('--mcp-stdio needs a command, e.g. --mcp-stdio "pistom serve --backend http://127.0.0.1:2000"');
  return command;
}

function parseHeaders(entries: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    // Never echo the entry: it may be a bare token.
    if (colon <= 0) throw new UsageError('--header must look like "Name: value", e.g. --header "Authorization: Bearer TOKEN"');
    const name = entry.slice(0, colon).trim();
    const value = entry.slice(colon + 1).trim();
    if (!isHeaderName(name)) throw new UsageError('--header: the name before ":" is not a valid HTTP header name');
    if (value === '') throw new UsageError(`--header ${name}: the value after ":" is empty`);
    if (/[\r\n\0]/.test(value)) throw new UsageError(`--header ${name}: the value has a line break or NUL`);
    headers[name] = value;
  }
  return headers;
}

function int(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

function positiveNumber(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`${flag} must be a number above 0 and at most ${max} (got "${text}")`);
  }
  return value;
}

function duration(flag: string, text: string, maxMs: number, allowZero = false): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms > maxMs || (ms === 0 && !allowZero)) {
    throw new UsageError(`${flag} must be a duration like 500ms, 30s or 2m, ${allowZero ? 'from 0' : 'above 0'} up to ${formatDuration(maxMs)} (got "${text}")`);
  }
  return ms;
}

function parseWarmup(text: string): { warmupMs: number } | { warmupRequests: number } {
  if (/^\s*\d+\s*$/.test(text)) return { warmupRequests: int('--warmup', text, 0, LIMITS.maxRequests) };
  const ms = parseDuration(text);
  if (ms === undefined || ms > LIMITS.maxDurationMs) {
    throw new UsageError(`--warmup must be a duration like 5s (time) or a whole number (requests) (got "${text}")`);
  }
  return { warmupMs: ms };
}

function checkWorkload(text: string): string {
  if (isBuiltinWorkload(text)) return text;
  if (!/\.(json|jsonl|ndjson)$/i.test(text)) {
    throw new UsageError(`--workload must be one of ${BUILTIN_WORKLOADS.join(', ')} or a .json/.jsonl file of requests (got "${text}")`);
  }
  if (!existsSync(text)) throw new UsageError(`--workload: no such file "${text}"`);
  return text;
}
