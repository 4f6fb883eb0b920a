export { runBenchCli, EXIT, type BenchCliIo } from './cli.js';
export { runBench, BenchSetupError, type RunBenchContext, type LiveSink } from './run.js';
export type { BenchReport } from './report/types.js';
export type { BenchOptionsInput, ResolvedBenchOptions, TargetSpec } from './options.js';
export type { OutcomeClass } from './outcome.js';
export { renderTextReport } from './report/text.js';
export { renderJsonReport } from './report/json.js';
export { renderHtmlReport } from './report/html.js';
export { renderComparison } from './compare.js';
