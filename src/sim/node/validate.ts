/**
 * Piston v3.1.1's request validation for POST /api/v2/execute (api/v2.js get_job and the Job
 * constructor), reproduced check for check and in the same order.
 */
import { posix } from 'node:path';
import { FileEncoding } from '../../piston/types.js';
import type { ExecuteJob, JobFile, JobLimits } from '../model/program-model.js';
import type { RuntimeCatalog } from './runtimes.js';

/** A node's caps: the job limits plus PISTON_OUTPUT_MAX_SIZE. */
export type SimCaps = JobLimits & { output_max_size: number };

export type Validation =
  | {
      ok: true;
      job: ExecuteJob;
      /**
       * Set when Piston would accept the request and then fail while priming or running it
       * (a file name escaping the folder, args that cannot be spread): a 500 with an empty body.
       */
      internalError?: string;
    }
  | { ok: false; status: 400; body: string };

const CONSTRAINTS = ['memory_limit', 'timeout', 'cpu_time'] as const;
const STAGES = ['compile', 'run'] as const;
const ENCODINGS = new Set<string>(FileEncoding.options);
const SUBMISSION_DIR = '/box/submission';

const reject = (message: string): Validation => ({ ok: false, status: 400, body: JSON.stringify({ message }) });
/** What express sends for a rejected TypeError: an Error has no enumerable keys. */
const rejectTypeError = (): Validation => ({ ok: false, status: 400, body: '{}' });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function validateExecute(body: unknown, catalog: RuntimeCatalog, caps: SimCaps): Validation {
  const req: Record<string, unknown> = isRecord(body) ? body : {};
  const { language, version, files } = req;
  if (!language || typeof language !== 'string') return reject('language is required as a string');
  if (!version || typeof version !== 'string') return reject('version is required as a string');
  if (!files || !Array.isArray(files)) return reject('files is required as an array');
  for (const [i, file] of (files as unknown[]).entries()) {
    if (!isRecord(file)) return rejectTypeError(); // reading .content of null throws in Piston
    if (typeof file.content !== 'string') return reject(`files[${i}].content is required as a string`);
  }
  const fileRecords = files as Record<string, unknown>[];

  const runtime = catalog.resolve(language, version);
  if (runtime === undefined) return reject(`${language}-${version} runtime is unknown`);

  if (runtime.language !== 'file' && !fileRecords.some((f) => !f.encoding || f.encoding === 'utf8')) {
    return reject('files must include at least one utf8 encoded file');
  }

  for (const constraint of CONSTRAINTS) {
    for (const stage of STAGES) {
      const name = `${stage}_${constraint}` as const;
      const value = req[name];
      const configured = caps[name];
      if (!value) continue;
      if (typeof value !== 'number') return reject(`If specified, ${name} must be a number`);
      if (configured <= 0) continue;
      if (value > configured) return reject(`${name} cannot exceed the configured limit of ${configured}`);
      if (value < 0) return reject(`${name} must be non-negative`);
    }
  }

  const stdin = normalizeStdin(req.stdin);
  if (stdin === undefined) return rejectTypeError();

  const jobFiles: JobFile[] = fileRecords.map((f, i) => ({
    name: (f.name as string) || `file${i}.code`,
    content: f.content as string,
    encoding: ENCODINGS.has(f.encoding as string) ? (f.encoding as JobFile['encoding']) : 'utf8',
  }));
  const codeFiles = runtime.language === 'file' ? jobFiles : jobFiles.filter((f) => f.encoding === 'utf8');
  const job: ExecuteJob = {
    runtime,
    files: jobFiles,
    main: codeFiles[0] ?? jobFiles[0]!,
    args: [],
    stdin,
    limits: {
      run_timeout: limitValue(req.run_timeout, caps.run_timeout),
      compile_timeout: limitValue(req.compile_timeout, caps.compile_timeout),
      run_cpu_time: limitValue(req.run_cpu_time, caps.run_cpu_time),
      compile_cpu_time: limitValue(req.compile_cpu_time, caps.compile_cpu_time),
      run_memory_limit: limitValue(req.run_memory_limit, caps.run_memory_limit),
      compile_memory_limit: limitValue(req.compile_memory_limit, caps.compile_memory_limit),
    },
  };
  const badName = fileRecords.find((f) => f.name !== undefined && f.name !== null && f.name !== '' && typeof f.name !== 'string');
  const escaping = jobFiles.find((f) => escapesSubmissionDir(f.name));
  const args = spreadArgs(req.args);
  if (badName) return { ok: true, job, internalError: 'The "path" argument must be of type string' };
  if (escaping) return { ok: true, job, internalError: `File path "${escaping.name}" tries to escape parent directory` };
  if (args === undefined) return { ok: true, job, internalError: 'args is not iterable' };
  job.args = args;
  return { ok: true, job };
}

/** `stdin ?? ''`, then Piston calls `.slice(-1)` on it: only strings and arrays survive. */
function normalizeStdin(stdin: unknown): string | undefined {
  if (stdin === undefined || stdin === null) return '\n';
  if (typeof stdin === 'string') return stdin.endsWith('\n') ? stdin : `${stdin}\n`;
  if (Array.isArray(stdin)) return `${String(stdin)}\n`;
  return undefined;
}

/** `args ?? []` spread into the command line: a string becomes its characters (Piston quirk). */
function spreadArgs(args: unknown): string[] | undefined {
  if (args === undefined || args === null) return [];
  if (typeof args === 'string') return [...args];
  if (Array.isArray(args) && args.every((a) => typeof a === 'string')) return args as string[];
  return undefined;
}

/** `value ?? configured` as Piston does; falsy non-numbers reach isolate as 0. */
function limitValue(value: unknown, configured: number): number {
  if (value === undefined || value === null) return configured;
  return typeof value === 'number' ? value : 0;
}

function escapesSubmissionDir(name: string): boolean {
  return posix.relative(SUBMISSION_DIR, posix.join(SUBMISSION_DIR, name)).startsWith('..');
}
