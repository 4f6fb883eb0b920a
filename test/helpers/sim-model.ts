/**
 * Helpers for the program model's tests: jobs built directly (no node, no HTTP) and handed to a
 * model, as the simulated node hands it a validated request.
 */
import semver from 'semver';
import { LIMIT_NAMES, PISTON_DEFAULT_CAPS } from '../../src/piston/limits.js';
import type { StageResult } from '../../src/piston/types.js';
import { ALL_RUNTIMES, createProgramModel, DEFAULT_MEMORY_FLOOR_BYTES, type ExecuteJob, type JobLimits, type ModelName, type ProgramModel } from '../../src/sim/index.js';

export interface JobExtras extends Partial<JobLimits> {
  stdin?: string;
  args?: string[];
}

/** A job as Piston would build it from `{language, version: '*', files: [{content}], ...extras}` on a node with every runtime. */
export function jobOf(language: string, content: string, extras: JobExtras = {}): ExecuteJob {
  const { stdin = '', args = [], ...limits } = extras;
  const runtime = ALL_RUNTIMES.filter((rt) => rt.language === language).sort((a, b) => semver.rcompare(a.version, b.version))[0];
  if (!runtime) throw new Error(`no runtime for ${language}`);
  const main = { name: 'file0.code', content, encoding: 'utf8' as const };
  return {
    runtime,
    files: [main],
    main,
    args,
    stdin: stdin.endsWith('\n') ? stdin : `${stdin}\n`,
    limits: { ...(Object.fromEntries(LIMIT_NAMES.map((name) => [name, PISTON_DEFAULT_CAPS[name]])) as JobLimits), ...limits },
  };
}

/** A model with a node's default sandbox settings (output cap 1024, memory floor 8192). */
export function modelOf(name: ModelName, memoryFloorBytes = DEFAULT_MEMORY_FLOOR_BYTES): ProgramModel {
  return createProgramModel(name, { outputMax: PISTON_DEFAULT_CAPS.output_max_size, memoryFloorBytes });
}

/** The stages a model gives a program: `{compile?, run}`, as in Piston's answer. */
export function stagesOf(model: ProgramModel, language: string, content: string, extras: JobExtras = {}): { compile?: StageResult; run: StageResult } {
  const { compile, run } = model.simulate(jobOf(language, content, extras));
  return compile ? { compile, run } : { run };
}
