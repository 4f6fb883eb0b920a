/**
 * The interpreter: what a program without a directive prints and how it ends, read statement by
 * statement by a reader per language (python.ts, js.ts, c.ts, generic.ts over interp.ts). Used by
 * the `interpreter` model for fidelity with real nodes (the recordings, the demo); see docs/sim.md.
 */
import type { StageResult } from '../../piston/types.js';
import { parseBraceBlocks, parsePythonBlocks } from './blocks.js';
import { cGlobals, cLanguage, cppTerminate, runCMain, undeclaredIdentifier } from './c.js';
import type { ProgramContext } from './context.js';
import { genericGlobals, genericLanguage, genericUncaught } from './generic.js';
import { Interpreter, ThrowSignal } from './interp.js';
import { jsGlobals, jsLanguage, nodeUncaught, runJs } from './js.js';
import type { ExecuteJob } from './program-model.js';
import { Exit, NeverEnds, OutputKill, SignalDeath, SimProcess, TimeLimit } from './process.js';
import { pythonGlobals, pythonLanguage, pythonTraceback } from './python.js';
import type { ProgramReader } from './stages.js';
import type { Scope } from './values.js';

export const INTERPRETER: ProgramReader = {
  compileError(job) {
    const { language } = job.runtime;
    return language === 'c' || language === 'c++' ? undeclaredIdentifier(job.main.content, job.main.name, language === 'c++') : null;
  },
  run: interpret,
};

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
