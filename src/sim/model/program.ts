/**
 * The model's entry point: from a validated job to the compile and run stages Piston would
 * report, and how long the job holds its slot. Deterministic: the same job gives the same answer.
 */
import type { StageResult } from '../../piston/types.js';
import type { ExecuteJob } from '../node/validate.js';
import { parseBraceBlocks, parsePythonBlocks } from './blocks.js';
import { cGlobals, cLanguage, cppTerminate, runCMain, undeclaredIdentifier } from './c.js';
import { readDirective, directiveStage, type Directive } from './directive.js';
import { genericGlobals, genericLanguage, genericUncaught } from './generic.js';
import { Interpreter, ThrowSignal } from './interp.js';
import { jsGlobals, jsLanguage, nodeUncaught, runJs } from './js.js';
import { Exit, NeverEnds, OutputKill, SignalDeath, SimProcess, TimeLimit, type ProcessProfile } from './process.js';
import { pythonGlobals, pythonLanguage, pythonTraceback } from './python.js';
import { boxId, cgroupLimitBytes, cgroupRefusal, startupKill } from './sandbox-memory.js';
import type { Scope } from './values.js';

export interface ProgramContext {
  job: ExecuteJob;
  proc: SimProcess;
  globals: Scope;
}

/** What the node's configuration adds to the model: Piston's output cap and the kernel's cgroup floor. */
export interface NodeModel {
  /** PISTON_OUTPUT_MAX_SIZE */
  outputMax: number;
  /** cgroup memory limits below this many bytes are refused (status XX); see sandbox-memory.ts */
  memoryFloorBytes: number;
}

export interface ModelOutcome {
  compile?: StageResult;
  run: StageResult;
  /** Modeled time the job holds its slot, in ms (compile + run wall time). */
  durationMs: number;
  /** Nothing would ever stop this job (a busy loop with every limit set to 0). */
  endless: boolean;
}

const COMPILED = new Set([
  'c', 'c++', 'd', 'fortran', 'go', 'rust', 'java', 'kotlin', 'scala', 'csharp', 'basic', 'csharp.net', 'basic.net',
  'fsharp.net', 'haskell', 'nim', 'crystal', 'swift', 'zig', 'cobol', 'pascal', 'ocaml', 'nasm', 'nasm64', 'freebasic',
  'vlang', 'llvm_ir', 'emojicode', 'ponylang', 'iverilog',
]);

export function isCompiled(job: ExecuteJob): boolean {
  const { language, runtime } = job.runtime;
  return COMPILED.has(language) || (language === 'typescript' && runtime === undefined);
}

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

export function simulate(job: ExecuteJob, node: NodeModel): ModelOutcome {
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
      const cpp = job.runtime.language === 'c++';
      const error = job.runtime.language === 'c' || cpp ? undeclaredIdentifier(job.main.content, job.main.name, cpp) : null;
      const proc = new SimProcess(limitsFor('compile'), profileFor('compile', false), j);
      if (error) {
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
  } else {
    const outcome = interpret(job, new SimProcess(limitsFor('run'), profileFor('run', /^(python|python2|yeethon|c|c\+\+|d|fortran)$/.test(job.runtime.language)), j));
    run = outcome.result;
    endless = outcome.endless;
  }
  return { ...(compile ? { compile } : {}), run, durationMs: (compile?.wall_time ?? 0) + (run.wall_time ?? 0), endless };
}

function interpret(job: ExecuteJob, proc: SimProcess): { result: StageResult; endless: boolean } {
  const language = job.runtime.language;
  const source = job.main.content;
  let end: unknown;
  try {
    if (language === 'python' || language === 'python2' || language === 'yeethon') {
      const lang = pythonLanguage();
      const interp = new Interpreter(lang, proc, source);
      const ctx: ProgramContext = { job, proc, globals: null as unknown as Scope };
      ctx.globals = pythonGlobals(ctx, interp);
      try {
        interp.run(parsePythonBlocks(source), ctx.globals);
      } catch (error) {
        if (!(error instanceof ThrowSignal)) throw error;
        if (error.exc.type === 'SystemExit') throw new Exit(Number(error.exc.message) || 0);
        proc.write('stderr', pythonTraceback(error, job.main.name, source));
        throw new Exit(1);
      }
    } else if (language === 'c' || language === 'c++') {
      const cpp = language === 'c++';
      const interp = new Interpreter(cLanguage(cpp), proc, source);
      const ctx: ProgramContext = { job, proc, globals: null as unknown as Scope };
      ctx.globals = cGlobals(ctx, interp, cpp);
      try {
        runCMain(ctx, interp, parseBraceBlocks(source));
      } catch (error) {
        if (!(error instanceof ThrowSignal)) throw error;
        proc.write('stderr', cppTerminate(error.exc));
        throw new SignalDeath('SIGABRT');
      }
    } else if (language === 'javascript' || (language === 'typescript' && job.runtime.runtime === 'deno') || language === 'typescript' || language === 'coffeescript') {
      const interp = new Interpreter(jsLanguage(), proc, source);
      const ctx: ProgramContext = { job, proc, globals: null as unknown as Scope };
      const { scope, tasks } = jsGlobals(ctx, interp, job.runtime.runtime === 'deno');
      ctx.globals = scope;
      try {
        runJs(ctx, interp, parseBraceBlocks(source), tasks);
      } catch (error) {
        if (!(error instanceof ThrowSignal)) throw error;
        const frame = error.frames[0]!;
        const sourceLine = source.split('\n')[frame.line - 1] ?? frame.text;
        proc.write('stderr', nodeUncaught(error.exc, job.main.name, frame.line, sourceLine, job.runtime.version));
        throw new Exit(1);
      }
    } else {
      const lang = genericLanguage(language);
      const interp = new Interpreter(lang, proc, source);
      const ctx: ProgramContext = { job, proc, globals: null as unknown as Scope };
      ctx.globals = genericGlobals(ctx, interp);
      try {
        const stmts = lang.parseBlock(source);
        interp.run(stmts, ctx.globals);
        const main = ctx.globals.has('main') ? ctx.globals.get('main') : ctx.globals.has('Main') ? ctx.globals.get('Main') : undefined;
        if (main) interp.call(main, [[...job.args]], new Map());
      } catch (error) {
        if (!(error instanceof ThrowSignal)) throw error;
        const { stderr, code } = genericUncaught(error.exc, language, job.main.name, error.frames[error.frames.length - 1]!.line);
        proc.write('stderr', stderr);
        throw new Exit(code);
      }
    }
    end = new Exit(0);
  } catch (error) {
    end = error;
  }
  if (end instanceof NeverEnds) return { result: proc.finish(new Exit(0)), endless: true };
  if (!(end instanceof Exit || end instanceof SignalDeath || end instanceof TimeLimit || end instanceof OutputKill)) {
    // a gap in the model itself: report what the program printed so far as a clean exit
    end = new Exit(0);
  }
  return { result: proc.finish(end), endless: false };
}
