/**
 * The `execute` call as clients send it: one zod schema for the MCP tool's input (and its JSON
 * Schema), the router's input type, and the checks that run before anything is sent to a node.
 */
import { z } from 'zod';
import { LIMIT_NAMES } from '../piston/limits.js';
import { FileEncoding, StageResult } from '../piston/types.js';

export type { StageResult } from '../piston/types.js';

const limit = (what: string, unit: string) =>
  z
    .number({ error: `${what} must be a number of ${unit}` })
    .int(`${what} must be a whole number of ${unit}`)
    .positive(`${what} must be at least 1 ${unit === 'bytes' ? 'byte' : 'ms'}: Piston treats 0 as "no limit", which would bypass the node's caps`)
    .optional()
    .describe(`${what} in ${unit}; must not exceed the node's cap. Omit for the node's default.`);

export const ExecuteFileSchema = z
  .object({
    name: z
      .string({ error: 'files[].name must be a string' })
      .max(255, 'file names are limited to 255 characters')
      .optional()
      .describe('Relative path inside the job folder, e.g. "main.py" or "pkg/mod.py". The first file is the one run.'),
    content: z.string({ error: 'files[].content must be a string' }).describe('File content, in the given encoding.'),
    encoding: z.enum(FileEncoding.options, { error: `files[].encoding must be one of ${FileEncoding.options.join(', ')}` }).optional().describe('Defaults to utf8.'),
  })
  .strict();

export const ExecuteInputShape = {
  language: z
    .string({ error: 'language must be a string, e.g. "python"' })
    .min(1, 'language must not be empty')
    .max(64, 'language names are at most 64 characters')
    .describe('Language name or alias, case-insensitive (python, py, javascript, js, c, c++, ...). See list_runtimes.'),
  version: z
    .string({ error: 'version must be a string, e.g. "3.x" or "*"' })
    .max(64)
    .optional()
    .describe('Semver range (3, 3.x, ^3.10, 3.11.2); "*", "latest" or nothing means the newest on the cluster.'),
  code: z.string({ error: 'code must be a string' }).optional().describe('Source of a single-file program. Use either code or files.'),
  files: z
    .array(ExecuteFileSchema, { error: 'files must be an array of {name?, content, encoding?}' })
    .min(1, 'files must hold at least one file')
    .max(64, 'at most 64 files per call')
    .optional()
    .describe('Several files; the first one is run.'),
  stdin: z.string({ error: 'stdin must be a string' }).optional().describe('Standard input for the program.'),
  args: z.array(z.string({ error: 'args must be an array of strings' }), { error: 'args must be an array of strings' }).max(256).optional().describe('Command-line arguments.'),
  run_timeout: limit('run_timeout', 'ms (wall clock)'),
  compile_timeout: limit('compile_timeout', 'ms (wall clock)'),
  run_cpu_time: limit('run_cpu_time', 'ms of CPU'),
  compile_cpu_time: limit('compile_cpu_time', 'ms of CPU'),
  run_memory_limit: limit('run_memory_limit', 'bytes'),
  compile_memory_limit: limit('compile_memory_limit', 'bytes'),
};

export const ExecuteInputSchema = z.object(ExecuteInputShape).strict();
export type ExecuteInput = z.infer<typeof ExecuteInputSchema>;

export const ExecuteOutputShape = {
  language: z.string(),
  version: z.string(),
  node: z.string().describe('The node that ran the program.'),
  run: StageResult,
  compile: StageResult.optional(),
  attempts: z.number().int().describe('Nodes tried, 1 when the first one answered.'),
  queued_ms: z.number().describe('Time spent waiting for a slot in pistom.'),
};
export const ExecuteOutputSchema = z.object(ExecuteOutputShape);
export type ExecuteOutput = z.infer<typeof ExecuteOutputSchema>;

export type LimitValues = Partial<Record<(typeof LIMIT_NAMES)[number], number>>;
