import { describe, expect, it } from 'vitest';
import { formatExecuteText } from '../../src/mcp/format.js';
import type { ExecuteOutput } from '../../src/request/schema.js';

const stage = (over: Partial<ExecuteOutput['run']> = {}): ExecuteOutput['run'] => ({ stdout: '', stderr: '', output: '', code: 0, signal: null, message: null, status: null, cpu_time: 1, wall_time: 2, memory: 3, ...over });
const result = (over: Partial<ExecuteOutput> = {}): ExecuteOutput => ({ language: 'python', version: '3.11.2', node: 'a', run: stage(), attempts: 1, queued_ms: 0, ...over });

describe('text form of results', () => {
  it('delimits stdout, stderr and the exit line', () => {
    const text = formatExecuteText(result({ run: stage({ stdout: 'hi\n', stderr: 'warn\n' }) }));
    expect(text).toBe('python 3.11.2 on node a\n--- stdout ---\nhi\n--- stderr ---\nwarn\n--- exit code: 0 | signal: none | status: ok ---');
  });

  it('says plainly when output was cut, and what a time limit did', () => {
    expect(formatExecuteText(result({ run: stage({ status: 'OL', code: null, signal: 'SIGKILL', message: 'stdout length exceeded' }) }))).toMatch(/OUTPUT TRUNCATED: stdout went over/);
    expect(formatExecuteText(result({ run: stage({ status: 'EL', code: null, signal: 'SIGKILL' }) }))).toMatch(/OUTPUT TRUNCATED: stderr went over/);
    expect(formatExecuteText(result({ run: stage({ status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded (wall clock)' }) }))).toMatch(/status: time limit exceeded \(wall clock\): the program was killed/);
  });

  it('reports a failed compile once, with the compiler output, and retries in the header', () => {
    const failed = stage({ status: 'RE', code: 1, stderr: 'x.c:1: error', output: 'x.c:1: error', message: 'Exited with error status 1' });
    const text = formatExecuteText(result({ language: 'c', compile: failed, run: failed, attempts: 2 }));
    expect(text).toMatch(/^c 3\.11\.2 on node a \(after 2 attempts\)/);
    expect(text).toMatch(/--- compile output ---\nx\.c:1: error/);
    expect(text).toMatch(/COMPILE ERROR \(the compiler exited with code 1\); the program did not run/);
    expect(text).not.toMatch(/--- stdout ---/);
  });
});
