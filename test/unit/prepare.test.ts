import { describe, expect, it } from 'vitest';
import { capViolation, InvalidRequestError, prepareRequest } from '../../src/request/prepare.js';
import { ExecuteInputSchema } from '../../src/request/schema.js';
import { NodeCapsSchema } from '../../src/config/schema.js';

const caps = NodeCapsSchema.parse({});

function rejects(input: Record<string, unknown>): string {
  try {
    prepareRequest(ExecuteInputSchema.parse({ language: 'python', ...input }));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('request checks before anything is sent', () => {
  // Piston answers 500 to any name whose relative path starts with "..": "..x" and "..." included.
  it.each(['/etc/passwd', '../evil.py', 'a/../../b.py', 'pkg/../../x', '..x', '...', '..\u2215x', './..x', '..'])('rejects the file name %s', (name) => {
    expect(rejects({ files: [{ name: 'main.py', content: '' }, { name, content: 'x' }] })).toMatch(/files\[1\]\.name/);
  });

  it('accepts sub-folders, unnamed files, and dots that do not start the path', () => {
    const prepared = prepareRequest(ExecuteInputSchema.parse({ language: 'py', files: [{ name: 'main.py', content: 'x' }, { name: 'pkg/mod.py', content: '' }, { content: 'y' }, { name: 'a/..b', content: '' }, { name: '.env', content: '' }, { name: 'b/../lib.py', content: '' }] }));
    expect(prepared.base.files).toHaveLength(6);
  });

  it('wants code or files but not both, and one utf8 file', () => {
    expect(rejects({})).toMatch(/give code/);
    expect(rejects({ code: 'x', files: [{ content: 'y' }] })).toMatch(/not both/);
    expect(rejects({ files: [{ content: 'AA==', encoding: 'base64' }] })).toMatch(/utf8/);
  });

  it.each([0, -5])('refuses a limit of %i (Piston treats 0 as unlimited)', (value) => {
    const result = ExecuteInputSchema.safeParse({ language: 'python', code: 'x', run_timeout: value });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toMatch(/at least 1.*0 as "no limit"/);
  });

  it('names the cap a limit goes over, and the body size limit', () => {
    const prepared = prepareRequest(ExecuteInputSchema.parse({ language: 'python', code: 'x', run_timeout: 5000 }));
    expect(capViolation(prepared, 100, caps)).toEqual({ limit: 'run_timeout', value: 5000, cap: 3000 });
    expect(capViolation(prepared, 200_000, { ...caps, run_timeout: 10_000 })).toEqual({ limit: 'body size', value: 200_000, cap: 102400 });
    const memory = prepareRequest(ExecuteInputSchema.parse({ language: 'python', code: 'x', run_memory_limit: 10 ** 12 }));
    expect(capViolation(memory, 100, caps)).toBeUndefined(); // -1 = the node sets no cap
  });

  it('rejects wrong types with messages that say what is allowed', () => {
    const result = ExecuteInputSchema.safeParse({ language: 'python', code: 'x', args: 'abc', stdin: 5 });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((issue) => issue.message).join('\n');
    expect(messages).toMatch(/args must be an array of strings/);
    expect(messages).toMatch(/stdin must be a string/);
  });

  it('sends stdin, args and limits to the node as given', () => {
    const prepared = prepareRequest(ExecuteInputSchema.parse({ language: 'python', code: 'x', stdin: 'world\nline2', args: ['a', 'b'], run_cpu_time: 200 }));
    expect(prepared.base).toEqual({ files: [{ content: 'x' }], stdin: 'world\nline2', args: ['a', 'b'], run_cpu_time: 200 });
  });
});
