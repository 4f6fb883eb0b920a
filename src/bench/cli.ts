/** `pistom bench ...` and `pistom bench compare A B`: exit codes, signals, output streams. */
import { HELP, parseBenchArgs, type CliRun } from './args.js';
import { usageMessage } from '../util/usage.js';
import { loadReport, renderComparison } from './compare.js';
import { createLiveView } from './live.js';
import { writeHtmlReport } from './report/html.js';
import { renderJsonReport, writeJsonReport } from './report/json.js';
import { renderTextReport } from './report/text.js';
import type { BenchReport } from './report/types.js';
import { BenchSetupError, runBench } from './run.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

type OutStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface BenchCliIo {
  stdout: OutStream;
  stderr: OutStream;
  /** Where SIGINT comes from; tests pass an emitter of their own. */
  signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

export async function runBenchCli(argv: string[], io: Partial<BenchCliIo> = {}): Promise<number> {
  const { stdout = process.stdout, stderr = process.stderr, signals = process } = io;
  const out = safeWriter(stdout);
  const err = safeWriter(stderr);
  try {
    return await dispatch(argv, { stdout, stderr, signals }, out.write, err.write);
  } finally {
    out.dispose();
    err.dispose();
  }
}

async function dispatch(argv: string[], io: BenchCliIo, out: Writer, err: Writer): Promise<number> {
  if (argv[0] === 'compare') return compare(argv.slice(1), out, err);

  const parsed = parseBenchArgs(argv);
  if (parsed.kind === 'help') {
    await out(HELP);
    return EXIT.ok;
  }
  if (parsed.kind === 'error') {
    await err(`${usageMessage('bench', parsed.message)}\n`);
    return EXIT.usage;
  }
  return run(parsed.run, io, out, err);
}

async function run(cli: CliRun, io: BenchCliIo, out: Writer, err: Writer): Promise<number> {
  const interrupt = new AbortController();
  const force = new AbortController();
  const onSigint = () => {
    if (!interrupt.signal.aborted) {
      if (!cli.quiet) void err('\ninterrupted: finishing requests in flight (Ctrl-C again cancels them)\n');
      interrupt.abort();
    } else {
      force.abort();
    }
  };
  io.signals.on('SIGINT', onSigint);
  let report: BenchReport;
  try {
    report = await runBench(cli.options, {
      signal: interrupt.signal,
      forceSignal: force.signal,
      ...(cli.quiet ? {} : { live: createLiveView({ stream: io.stderr }), log: (line: string) => void err(`${line}\n`) }),
    });
  } catch (error) {
    const message = error instanceof BenchSetupError || error instanceof Error ? error.message : String(error);
    await err(`pistom bench: ${message}\n`);
    return EXIT.failed;
  } finally {
    io.signals.off('SIGINT', onSigint);
  }

  const text = renderTextReport(report);
  let status: number = interrupt.signal.aborted ? EXIT.interrupted : EXIT.ok;
  if (cli.jsonFile === '-') {
    await out(renderJsonReport(report));
    if (!cli.quiet) await err(text);
  } else {
    await out(text);
  }
  const writes: [string | undefined, (r: BenchReport, f: string) => Promise<void>, string][] = [
    [cli.jsonFile === '-' ? undefined : cli.jsonFile, writeJsonReport, 'JSON'],
    [cli.htmlFile, writeHtmlReport, 'HTML'],
  ];
  for (const [file, write, what] of writes) {
    if (!file) continue;
    try {
      await write(report, file);
      if (!cli.quiet) await err(`${what} report written to ${file}\n`);
    } catch (error) {
      await err(`pistom bench: cannot write the ${what} report to ${file}: ${(error as Error).message}\n`);
      status = EXIT.failed;
    }
  }
  return status;
}

async function compare(args: string[], out: Writer, err: Writer): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    await out('Usage: pistom bench compare A.json B.json\nPuts two runs written by `pistom bench --json` side by side, with B/A ratios.\n');
    return EXIT.ok;
  }
  if (args.length !== 2 || args.some((a) => a.startsWith('--'))) {
    await err('pistom bench compare: needs exactly two report files: pistom bench compare A.json B.json\n');
    return EXIT.usage;
  }
  const [fileA, fileB] = args as [string, string];
  try {
    const [a, b] = await Promise.all([loadReport(fileA), loadReport(fileB)]);
    await out(renderComparison(a, b, [fileA, fileB]));
    return EXIT.ok;
  } catch (error) {
    await err(`pistom bench compare: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
}

type Writer = (text: string) => Promise<void>;

/** Writes that never throw and never hang on a closed pipe (e.g. `pistom bench ... | head`). */
function safeWriter(stream: OutStream): { write: Writer; dispose(): void } {
  let broken = false;
  const onError = () => {
    broken = true;
  };
  stream.on('error', onError);
  const write: Writer = (text) =>
    new Promise((resolve) => {
      if (broken) return resolve();
      try {
        stream.write(text, () => resolve());
      } catch {
        broken = true;
        resolve();
      }
    });
  return { write, dispose: () => stream.off('error', onError) };
}
