/**
 * From a validated job to the compile and run stages Piston would report, and how long the job
 * holds its slot. What every model shares: the sandbox (the runtime's start-up costs, memory limits
 * before the program runs, the node's limits on what it does) and the `pistom-sim:` directive.
 * What a program without a directive does is up to a ProgramReader (the interpreter); without one,
 * such a program exits cleanly having printed nothing. Deterministic: the same job gives the same answer.
 */
import type { StageResult } from '../../piston/types.js';
import { readDirective, directiveStage, type Directive } from './directive.js';
import type { ExecuteJob, ModelOutcome, ProgramModel, SandboxSettings } from './program-model.js';
import { Exit, SimProcess, type ProcessProfile } from './process.js';
import { boxId, cgroupLimitBytes, cgroupRefusal, startupKill } from './sandbox-memory.js';

/** Reads what a program without a directive does. */
export interface ProgramReader {
  /** The compiler's report when the program would not compile, else null (asked of compiled languages only). */
  compileError(job: ExecuteJob): string | null;
  /** Runs the program in `proc`, which applies the limits and keeps the clocks; how the run ended. */
  run(job: ExecuteJob, proc: SimProcess): { result: StageResult; endless: boolean };
}

const COMPILED = new Set([
  'c', 'c++', 'd', 'fortran', 'go', 'rust', 'java', 'kotlin', 'scala', 'csharp', 'basic', 'csharp.net', 'basic.net',
  'fsharp.net', 'haskell', 'nim', 'crystal', 'swift', 'zig', 'cobol', 'pascal', 'ocaml', 'nasm', 'nasm64', 'freebasic',
  'vlang', 'llvm_ir', 'emojicode', 'ponylang', 'iverilog',
]);

function isCompiled(job: ExecuteJob): boolean {
  const { language, runtime } = job.runtime;
  return COMPILED.has(language) || (language === 'typescript' && runtime === undefined);
}

/** Runtimes whose stdout is block-buffered when piped: flushed at exit, lost on a kill. */
const BUFFERED_STDOUT = /^(python|python2|yeethon|c|c\+\+|d|fortran)$/;

interface Costs {
  run: [cpu: number, wall: number, memory: number];
  compile: [cpu: number, wall: number, memory: number];
  runLine: number;
  runCommand: string;
}

function costsOf(job: ExecuteJob): Costs {
  const { language, runtime } = job.runtime;
  if (language === 'python' || language === 'python2' || language === 'yeethon') return { run: [20, 31, 3_760_000], compile: [0, 0, 0], runLine: 3, runCommand: '/usr/bin/python3' };
  if (language === 'c') {
    const heavy = /#include/.test(job.main.content);
    return { run: [4, 14, 1_180_000], compile: heavy ? [90, 120, 48_388_000] : [56, 64, 6_652_000], runLine: 4, runCommand: './a.out' };
  }
  if (language === 'c++' || language === 'd' || language === 'fortran') return { run: [5, 19, 1_188_000], compile: [473, 497, 78_316_000], runLine: 4, runCommand: './a.out' };
  if (runtime === 'node' || (language === 'javascript' && !runtime)) return { run: [57, 74, 7_068_000], compile: [0, 0, 0], runLine: 3, runCommand: 'node' };
  if (runtime === 'deno') return { run: [45, 70, 25_000_000], compile: [0, 0, 0], runLine: 3, runCommand: 'deno run' };
  if (/^(java|kotlin|scala|groovy|clojure)$/.test(language)) return { run: [90, 130, 35_000_000], compile: [800, 900, 120_000_000], runLine: 5, runCommand: 'java' };
  if (runtime === 'dotnet' || runtime === 'mono') return { run: [60, 90, 30_000_000], compile: [700, 800, 90_000_000], runLine: 5, runCommand: 'dotnet bin/Debug/net5.0/linux-x64/binary.dll' };
  if (language === 'go') return { run: [3, 12, 1_500_000], compile: [350, 420, 90_000_000], runLine: 3, runCommand: './out' };
  if (language === 'rust') return { run: [2, 10, 1_000_000], compile: [600, 680, 110_000_000], runLine: 3, runCommand: './binary' };
  if (COMPILED.has(language)) return { run: [5, 15, 2_000_000], compile: [300, 350, 60_000_000], runLine: 3, runCommand: './binary' };
  return { run: [25, 40, 6_000_000], compile: [250, 300, 60_000_000], runLine: 3, runCommand: language };
}

/** A stable number in [0, 1) from the program text: the model's deterministic jitter. */
function jitterOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 4294967296;
}

function scaled([cpu, wall, memory]: [number, number, number], j: number): [number, number, number] {
  const f = 0.92 + j * 0.16;
  return [Math.round(cpu * f), Math.round(wall * f), Math.round((memory * f) / 4000) * 4000];
}

/** A model: the sandbox and the directive, with `reader` for programs without a directive (none: they print nothing and exit 0). */
export function stagesModel(node: SandboxSettings, reader: ProgramReader | null): ProgramModel {
  return { simulate: (job) => simulateStages(job, node, reader) };
}

function simulateStages(job: ExecuteJob, node: SandboxSettings, reader: ProgramReader | null): ModelOutcome {
  const { outputMax } = node;
  const j = jitterOf(job.main.content);
  const costs = costsOf(job);
  const compiled = isCompiled(job);
  const pkg = job.runtime.runtime ?? job.runtime.language;
  const profileFor = (stage: 'run' | 'compile', bufferedStdout: boolean): ProcessProfile => {
    const [cpuMs, wallMs, memoryBytes] = scaled(costs[stage], j);
    return { bufferedStdout, cpuMs, wallMs, memoryBytes, runScript: `/piston/packages/${pkg}/${job.runtime.version}/${stage}`, runLine: costs.runLine, runCommand: costs.runCommand };
  };
  const memoryLimitOf = (stage: 'run' | 'compile'): number => (stage === 'run' ? job.limits.run_memory_limit : job.limits.compile_memory_limit);
  const limitsFor = (stage: 'run' | 'compile') => ({
    wallMs: stage === 'run' ? job.limits.run_timeout : job.limits.compile_timeout,
    cpuMs: stage === 'run' ? job.limits.run_cpu_time : job.limits.compile_cpu_time,
    // a limit isolate does not set (negative, or under 1000 bytes) is no cap
    memoryBytes: cgroupLimitBytes(memoryLimitOf(stage)) === null ? 0 : memoryLimitOf(stage),
    outputMax,
  });

  let directive: Directive | null | Error;
  try {
    directive = readDirective(job.main.content);
  } catch (error) {
    directive = error as Error;
  }

  /** The sandbox's own verdict on a stage's memory limit, before any program text is read. */
  const sandboxVerdict = (stage: 'run' | 'compile', box: number): StageResult | null =>
    cgroupRefusal(memoryLimitOf(stage), node.memoryFloorBytes, box) ?? startupKill(limitsFor(stage).memoryBytes, profileFor(stage, false));

  let compile: StageResult | undefined;
  const compileVerdict = compiled ? sandboxVerdict('compile', boxId(j)) : null;
  if (compileVerdict) {
    compile = compileVerdict;
  } else if (compiled) {
    if (directive && !(directive instanceof Error) && directive.compile) {
      compile = directiveStage(directive.compile, limitsFor('compile'), profileFor('compile', false));
    } else {
      const error = directive ? null : (reader?.compileError(job) ?? null);
      const proc = new SimProcess(limitsFor('compile'), profileFor('compile', false), j);
      if (error) {
        // the compiler stops early: a fraction of a full compile's time and memory
        proc.cpu = Math.round(proc.cpu * 0.18);
        proc.wall = Math.round(proc.wall * 0.15);
        proc.memory = 3_700_000;
        proc.write('stderr', error);
        compile = proc.finish(new Exit(1));
      } else {
        compile = proc.finish(new Exit(0));
      }
    }
  }
  if (compile && compile.code !== 0) return { compile, run: { ...compile }, durationMs: compile.wall_time ?? 0, endless: false };

  let run: StageResult;
  let endless = false;
  const runVerdict = sandboxVerdict('run', boxId(j, compiled ? 1 : 0));
  if (runVerdict) {
    run = runVerdict;
  } else if (directive instanceof Error) {
    const proc = new SimProcess(limitsFor('run'), profileFor('run', false), j);
    proc.write('stderr', `pistom-sim: invalid directive: ${directive.message}\n`);
    run = proc.finish(new Exit(1));
  } else if (directive) {
    run = directiveStage(directive, limitsFor('run'), profileFor('run', false));
  } else if (reader) {
    const outcome = reader.run(job, new SimProcess(limitsFor('run'), profileFor('run', BUFFERED_STDOUT.test(job.runtime.language)), j));
    run = outcome.result;
    endless = outcome.endless;
  } else {
    run = new SimProcess(limitsFor('run'), profileFor('run', false), j).finish(new Exit(0));
  }
  return { ...(compile ? { compile } : {}), run, durationMs: (compile?.wall_time ?? 0) + (run.wall_time ?? 0), endless };
}
