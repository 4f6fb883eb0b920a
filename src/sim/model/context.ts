/** What the language readers of the interpreter see of the job they run. */
import type { ExecuteJob } from './program-model.js';
import type { SimProcess } from './process.js';
import type { Scope } from './values.js';

export interface ProgramContext {
  job: ExecuteJob;
  proc: SimProcess;
  globals: Scope;
}
