/**
 * Property tests on `execute` arguments through the real stack (SDK Client, Streamable HTTP,
 * pistom, a simulated node): arbitrary JSON, wrong types, huge strings, control characters,
 * invalid UTF-16, deep nesting. Each call is answered exactly once, nothing crashes, and errors
 * say what was wrong. Counts go to test-results/robustness/fuzz-execute.json.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import { connectCounting, CrashWatch, type CountingClient } from '../chaos/support/harness.js';

const figures = new FigureRecorder('fuzz-execute');
let sim: SimNode;
let app: InProcess;
let client: CountingClient;
const watch = new CrashWatch();

/** Any UTF-16 code units: control characters, NUL, lone surrogates. */
const rawText = (maxLength: number) => fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength }).map((units) => String.fromCharCode(...units));
const deep = fc.integer({ min: 1, max: 200 }).map((depth) => JSON.parse(`${'['.repeat(depth)}"x"${']'.repeat(depth)}`) as unknown);
const anyValue = fc.oneof(fc.jsonValue(), rawText(50), deep);

interface Answer {
  isError: boolean;
  text: string;
  /** pistom's error class (from _meta), when pistom refused the call itself. */
  errorClass?: string;
}

/** Calls execute; returns the answer, whether a tool result or a protocol error. */
async function answer(args: unknown): Promise<Answer> {
  try {
    const result = await client.call(args as Record<string, unknown>);
    expect(result.content.length).toBeGreaterThan(0);
    const text = result.content.map((c) => c.text ?? '').join('\n');
    return { isError: result.isError === true, text, errorClass: result._meta?.['pistom/error']?.class };
  } catch (error) {
    const message = (error as Error).message;
    expect(message.length).toBeGreaterThan(0);
    return { isError: true, text: message };
  }
}

/** A well-formed answer: a run that shows its output, or a refusal that says what was wrong. */
function expectClearAnswer(result: Answer): void {
  if (!result.isError) {
    expect(result.text).toMatch(/--- stdout ---|COMPILE ERROR/);
    return;
  }
  // Refused by pistom: a class, a code and a sentence; by the input schema or the protocol layer:
  // a message that names what is invalid.
  if (result.errorClass !== undefined) {
    expect(['request_error', 'overload', 'node_fault']).toContain(result.errorClass);
    expect(result.text.length, 'a sentence that says what was wrong').toBeGreaterThan(20);
    return;
  }
  expect(/Input validation error|invalid|must|expected|unknown|Unrecognized/i.test(result.text), `an error that says what was wrong, got: ${result.text.slice(0, 300)}`).toBe(true);
}

/**
 * Runs a property; every case must be answered exactly once and crash nothing, checked right after
 * the case, so that fast-check reports (and shrinks) the very input that broke it.
 */
async function property<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>, numRuns: number): Promise<void> {
  const lostBefore = client.tally().lost;
  let cases = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        cases++;
        await check(value);
        expect(client.tally().lost, 'calls answered zero times or more than once').toBe(lostBefore);
        expect(watch.events, 'unhandled rejections or uncaught exceptions').toEqual([]);
      }),
      { numRuns, seed: 42 },
    );
  } finally {
    const tally = client.tally();
    figures.row({ class: `execute arguments: ${name}`, tried: cases, lost: tally.lost - lostBefore, crashed: watch.events.length });
  }
}

describe('fuzz: execute arguments', () => {
  beforeAll(async () => {
    watch.install();
    sim = await startSimNode({ runtimes: 'all' });
    app = await startInProcess({ nodes: [{ name: 'a', url: sim.url }], health: { interval_ms: 60_000 } });
    client = await connectCounting(app.url);
  });

  afterAll(async () => {
    figures.write();
    await client.close();
    await app.close();
    await sim.close();
    watch.uninstall();
  });

  it('arbitrary JSON objects as arguments: answered, never a crash', async () => {
    await property('arbitrary JSON', fc.dictionary(fc.string({ maxLength: 12 }), anyValue, { maxKeys: 6 }), async (args) => {
      expectClearAnswer(await answer(args));
    }, 150);
  });

  it('wrong types on each known field: the error names the field', async () => {
    const fields = ['language', 'version', 'code', 'files', 'stdin', 'args', 'run_timeout', 'compile_timeout', 'run_memory_limit'] as const;
    const wrong = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { minLength: 1, maxLength: 2 }), fc.dictionary(fc.string(), fc.integer(), { minKeys: 1, maxKeys: 2 }));
    const numeric = new Set<string>(['run_timeout', 'compile_timeout', 'run_memory_limit']);
    const wrongNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.integer({ max: 0 }), fc.double({ min: 0.01, max: 1e6, noInteger: true }), fc.array(fc.integer(), { minLength: 1, maxLength: 2 }));
    const cases = fc.constantFrom(...fields).chain((field) => fc.tuple(fc.constant(field), numeric.has(field) ? wrongNumber : wrong));
    await property('wrong types', cases, async ([field, value]) => {
      const args: Record<string, unknown> = { language: 'python', code: 'print(1)', [field]: value };
      if (field === 'files') delete args.code;
      const result = await answer(args);
      expect(result.isError).toBe(true);
      expect(result.text).toContain(field);
    }, 120);
  });

  it('control characters, NUL and invalid UTF-16 in every string: answered, a run or a clear refusal', async () => {
    await property('control characters and invalid UTF-16', fc.record({ language: fc.oneof(fc.constant('python'), rawText(20)), code: rawText(200), stdin: rawText(100), args: fc.array(rawText(20), { maxLength: 3 }), version: fc.oneof(fc.constant('*'), rawText(10)) }), async (args) => {
      expectClearAnswer(await answer(args));
    }, 120);
    await property('file names with control characters and paths', fc.record({ name: fc.oneof(rawText(30), fc.constantFrom('../x', '/etc/passwd', 'a\\b', 'a/', '.', '..', 'ok.py', 'a\u0000b')), content: rawText(50) }), async (file) => {
      const result = await answer({ language: 'python', files: [file] });
      expectClearAnswer(result);
      if (/^\/|^\.\.|\\|\/$/.test(file.name) || file.name === '.' || file.name.includes('\u0000')) expect(result.isError, `file name ${JSON.stringify(file.name)} must be refused`).toBe(true);
    }, 80);
  });

  it('huge strings: refused with the size, never sent past the caps', async () => {
    await property('huge strings', fc.record({ field: fc.constantFrom('code', 'stdin'), size: fc.integer({ min: 150_000, max: 900_000 }) }), async ({ field, size }) => {
      const args: Record<string, unknown> = { language: 'python', code: 'print(1)', [field]: 'x'.repeat(size) };
      const result = await answer(args);
      expect(result.isError).toBe(true);
      expect(result.text).toMatch(/request body is \d+ bytes; the largest any node accepts is 102400 bytes/);
    }, 12);
  });

  it('deep nesting anywhere in the arguments: answered with a clear error', async () => {
    // Up to 1000 levels: deeper, the SDK client itself cannot serialize the call (the HTTP side's
    // bound is tested with raw bodies in fuzz-http).
    await property('deep nesting', fc.tuple(fc.constantFrom('code', 'files', 'args', 'extra'), fc.integer({ min: 2, max: 1000 })), async ([field, depth]) => {
      const nested = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown;
      const result = await answer({ language: 'python', code: 'print(1)', [field]: nested });
      expect(result.isError).toBe(true);
      expect(result.text).toMatch(depth > 60 ? /nested deeper than 64 levels|files|args|code|extra|Unrecognized/ : /files|args|code|extra|Unrecognized/);
    }, 40);
  });

  it('still serves a plain call after all of the above', async () => {
    const good = await answer({ language: 'python', code: 'print(1)' });
    expect(good.isError).toBe(false);
  });
});
