/**
 * The explicit directive: a line of the program containing `pistom-sim:` and a JSON object sets
 * the outcome directly, for tests and benchmarks. Unless it sets `status`, the node's limits
 * still apply to it as to any program (a wall_ms over run_timeout is a TO).
 */
import type { StageResult } from '../../piston/types.js';
import { Exit, SimProcess, TimeLimit, signalNumber, type ProcessLimits, type ProcessProfile } from './process.js';

export interface DirectiveStage {
  stdout?: string;
  stderr?: string;
  output?: string;
  code?: number | null;
  signal?: string | null;
  status?: StageResult['status'];
  message?: string | null;
  wall_ms?: number;
  cpu_ms?: number;
  memory?: number;
}
export interface Directive extends DirectiveStage {
  compile?: DirectiveStage;
}

const MARKER = 'pistom-sim:';
const STAGE_KEYS = new Set(['stdout', 'stderr', 'output', 'code', 'signal', 'status', 'message', 'wall_ms', 'cpu_ms', 'memory']);
const STATUSES = new Set(['RE', 'SG', 'TO', 'OL', 'EL', 'XX', null]);

/** The directive in this program text, null if none; throws if one is there but malformed. */
export function readDirective(source: string): Directive | null {
  const at = source.indexOf(MARKER);
  if (at === -1) return null;
  const lineEnd = source.indexOf('\n', at);
  const rest = source.slice(at + MARKER.length, lineEnd === -1 ? source.length : lineEnd);
  const open = rest.indexOf('{');
  const close = rest.lastIndexOf('}');
  if (open === -1 || close < open) throw new Error('expected a JSON object after pistom-sim:');
  let value: unknown;
  try {
    value = JSON.parse(rest.slice(open, close + 1));
  } catch (error) {
    throw new Error((error as Error).message, { cause: error });
  }
  checkStage(value, true);
  return value as Directive;
}

function checkStage(value: unknown, top: boolean): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the directive must be a JSON object');
  for (const [key, v] of Object.entries(value)) {
    if (key === 'compile' && top) {
      checkStage(v, false);
      continue;
    }
    if (!STAGE_KEYS.has(key)) throw new Error(`unknown key "${key}"`);
    if (['stdout', 'stderr', 'output'].includes(key) && typeof v !== 'string') throw new Error(`${key} must be a string`);
    if (['wall_ms', 'cpu_ms', 'memory'].includes(key) && (typeof v !== 'number' || v < 0)) throw new Error(`${key} must be a non-negative number`);
    if (key === 'code' && v !== null && !Number.isInteger(v)) throw new Error('code must be an integer or null');
    if ((key === 'signal' || key === 'message') && v !== null && typeof v !== 'string') throw new Error(`${key} must be a string or null`);
    if (key === 'status' && !STATUSES.has(v as string)) throw new Error('status must be null, RE, SG, TO, OL, EL or XX');
  }
}

const DEFAULT_MESSAGES: Record<string, string> = {
  TO: 'Time limit exceeded',
  OL: 'stdout length exceeded',
  EL: 'stderr length exceeded',
  XX: 'Internal sandbox error',
};

export function directiveStage(d: DirectiveStage, limits: ProcessLimits, profile: ProcessProfile): StageResult {
  const wall = d.wall_ms ?? profile.wallMs;
  const cpu = d.cpu_ms ?? Math.min(profile.cpuMs, wall);
  const memory = d.memory ?? profile.memoryBytes;
  const stdout = d.stdout ?? '';
  const stderr = d.stderr ?? '';
  if (d.status !== undefined) {
    const code = d.code !== undefined ? d.code : d.status === null ? 0 : d.status === 'RE' ? 1 : null;
    const signal = d.signal !== undefined ? d.signal : ['TO', 'OL', 'EL'].includes(d.status ?? '') ? 'SIGKILL' : null;
    const message =
      d.message !== undefined
        ? d.message
        : d.status === 'RE'
          ? `Exited with error status ${code}`
          : d.status === 'SG'
            ? `Caught fatal signal ${signalNumber(signal ?? '') ?? 9}`
            : (DEFAULT_MESSAGES[d.status ?? ''] ?? null);
    return { stdout, stderr, output: d.output ?? stderr + stdout, code, signal, message, status: d.status, cpu_time: cpu, wall_time: wall, memory };
  }
  if (d.signal) {
    const number = signalNumber(d.signal) ?? 9;
    return {
      stdout, stderr, output: d.output ?? stderr + stdout, code: d.code ?? null, signal: d.signal,
      message: d.message ?? `Caught fatal signal ${number}`, status: 'SG', cpu_time: cpu, wall_time: wall, memory,
    };
  }
  // a plain outcome: run it through the process so the node's limits apply
  const proc = new SimProcess(limits, { ...profile, bufferedStdout: false, cpuMs: cpu, wallMs: 0, memoryBytes: memory }, 0);
  let end: unknown = new Exit(d.code ?? 0);
  try {
    proc.write('stderr', stderr);
    proc.write('stdout', stdout);
    proc.sleep(wall);
    if (limits.cpuMs > 0 && cpu > limits.cpuMs) throw new TimeLimit('cpu');
  } catch (error) {
    end = error;
  }
  const result = proc.finish(end);
  if (!(end instanceof TimeLimit)) result.wall_time = wall;
  if (d.output !== undefined && result.status === null) result.output = d.output;
  if (d.message !== undefined) result.message = d.message;
  return result;
}
