/**
 * The Piston v2 API wire shapes (Piston v3.1.1), as zod schemas: one source of truth for the
 * router's client, the simulated node and the benchmark.
 */
import { z } from 'zod';

export const FileEncoding = z.enum(['utf8', 'base64', 'hex']);

export const PistonFile = z.object({
  name: z.string().optional(),
  content: z.string(),
  encoding: FileEncoding.optional(),
});
export type PistonFile = z.infer<typeof PistonFile>;

export const PistonExecuteRequest = z.object({
  language: z.string(),
  version: z.string(),
  files: z.array(PistonFile),
  stdin: z.string().optional(),
  args: z.array(z.string()).optional(),
  compile_timeout: z.number().optional(),
  run_timeout: z.number().optional(),
  compile_cpu_time: z.number().optional(),
  run_cpu_time: z.number().optional(),
  compile_memory_limit: z.number().optional(),
  run_memory_limit: z.number().optional(),
});
export type PistonExecuteRequest = z.infer<typeof PistonExecuteRequest>;

/** Piston's outcome codes: null ok, RE runtime error, SG signal, TO timeout, OL/EL output limits, XX internal. */
export const StageStatus = z.enum(['RE', 'SG', 'TO', 'OL', 'EL', 'XX']).nullable();
export type StageStatus = z.infer<typeof StageStatus>;

export const StageResult = z.object({
  stdout: z.string(),
  stderr: z.string(),
  output: z.string(),
  code: z.number().nullable(),
  signal: z.string().nullable(),
  message: z.string().nullable(),
  status: StageStatus,
  cpu_time: z.number().nullable().optional(),
  wall_time: z.number().nullable().optional(),
  memory: z.number().nullable().optional(),
});
export type StageResult = z.infer<typeof StageResult>;

export const PistonExecuteResponse = z.object({
  language: z.string(),
  version: z.string(),
  run: StageResult,
  compile: StageResult.optional(),
});
export type PistonExecuteResponse = z.infer<typeof PistonExecuteResponse>;

/** Bounds on what a node may describe (Piston's own names are short; a hostile node's need not be). */
const NAME_MAX = 64;
const ALIASES_MAX = 32;

export const PistonRuntime = z.object({
  language: z.string().min(1).max(NAME_MAX),
  version: z.string().min(1).max(NAME_MAX),
  aliases: z.array(z.string().max(NAME_MAX)).max(ALIASES_MAX),
  runtime: z.string().max(NAME_MAX).optional(),
});
export type PistonRuntime = z.infer<typeof PistonRuntime>;

export const PistonRuntimeList = z.array(PistonRuntime);

/** Why `value` is not a runtime list pistom accepts (undefined when it is one). */
export function runtimeListProblem(value: unknown, maxRuntimes: number): string | undefined {
  if (!Array.isArray(value)) return 'not an array';
  // Checked before the entries are parsed, so that a huge list costs nothing more.
  if (value.length > maxRuntimes) return `${value.length} runtimes, more than the ${maxRuntimes} allowed (catalog.max_runtimes)`;
  const parsed = PistonRuntimeList.safeParse(value);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join('.') || 'entry'}: ${issue.message}`;
}
