/**
 * The program models a simulated node can use (the node sees only ProgramModel, program-model.ts):
 *
 * - `interpreter` (the default): the sandbox, the `pistom-sim:` directive, and for programs
 *   without one an interpreter of Python, JavaScript, C and the common rules of other languages,
 *   faithful to what real nodes answered (test/fixtures/recordings-v3.1.1.json).
 * - `directive`: the sandbox and the directive only; a program without a directive exits 0 having
 *   printed nothing. For tests and benchmarks that must not depend on how programs are read.
 *
 * Both apply the same sandbox rules (memory limits before the program runs, the node's time,
 * memory and output limits), and give the same outcome for a program with a directive.
 */
import { INTERPRETER } from './interpreter.js';
import type { ExecuteJob, ModelOutcome, ProgramModel, SandboxSettings } from './program-model.js';
import { stagesModel } from './stages.js';

export type { ExecuteJob, JobFile, JobLimits, ModelOutcome, ProgramModel, SandboxSettings } from './program-model.js';
export type { Directive, DirectiveStage } from './directive.js';
export { DEFAULT_MEMORY_FLOOR_BYTES } from './sandbox-memory.js';

export const MODEL_NAMES = ['interpreter', 'directive'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export function isModelName(value: unknown): value is ModelName {
  return (MODEL_NAMES as readonly unknown[]).includes(value);
}

export function createProgramModel(name: ModelName, sandbox: SandboxSettings): ProgramModel {
  return remembered(stagesModel(sandbox, name === 'interpreter' ? INTERPRETER : null));
}

/** Jobs up to this size (program text and stdin) have their outcomes remembered. */
const REMEMBERED_JOB_CHARS = 16 * 1024;
const REMEMBERED_OUTCOMES = 2000;

/** Benchmark payloads repeat, and a model is deterministic: small jobs' outcomes are remembered (at most 2000, oldest out first). */
function remembered(model: ProgramModel): ProgramModel {
  const outcomes = new Map<string, ModelOutcome>();
  return {
    simulate(job: ExecuteJob): ModelOutcome {
      const size = job.files.reduce((n, f) => n + f.content.length, job.stdin.length);
      if (size > REMEMBERED_JOB_CHARS) return model.simulate(job);
      const key = JSON.stringify([job.runtime.language, job.runtime.version, job.files, job.main.name, job.args, job.stdin, job.limits]);
      let outcome = outcomes.get(key);
      if (!outcome) {
        outcome = model.simulate(job);
        if (outcomes.size >= REMEMBERED_OUTCOMES) outcomes.delete(outcomes.keys().next().value!);
        outcomes.set(key, outcome);
      }
      return outcome;
    },
  };
}
