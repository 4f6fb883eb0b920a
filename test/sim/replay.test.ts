/**
 * Every request recorded from a real Piston v3.1.1 node, replayed over HTTP against a simulated
 * node with the interpreter model: same status codes, same error bodies, same result shape and
 * outcome. (With the directive model, the 24 cases that do not run a program still replay; of
 * the 29 executions, 10 change outcome and 26 change output: docs/sim.md, "Which users need the interpreter".)
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startSimNode, type SimNode } from '../../src/sim/index.js';

interface RecordedCase {
  name: string;
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; contentType?: string; body: unknown };
}

const recording = JSON.parse(readFileSync(new URL('../fixtures/recordings-v3.1.1.json', import.meta.url), 'utf8')) as { cases: RecordedCase[] };
const STAGE_KEYS = ['code', 'cpu_time', 'memory', 'message', 'output', 'signal', 'status', 'stderr', 'stdout', 'wall_time'];

/**
 * isolate's sandbox number (the `box-765` in a cgroup path of an XX message) is a counter on a
 * real node: it differs from job to job, so it is compared as `box-N`.
 */
function normalizeBox<T>(value: T): T {
  return (typeof value === 'string' ? value.replace(/\/isolate\/box-\d+\//g, '/isolate/box-N/') : value) as T;
}

function bodyOf(c: RecordedCase): string | undefined {
  const body = c.request.body;
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return body; // sent raw: malformed JSON, wrong content type
  if (c.name === 'err-body-too-large') {
    return JSON.stringify({ language: 'python', version: '3.x', files: [{ name: 'main.py', content: `# ${'x'.repeat(120_000)}\nprint(1)` }] });
  }
  return JSON.stringify(body);
}

describe('replay of the Piston v3.1.1 recordings', () => {
  let sim: SimNode;
  beforeAll(async () => {
    // a small time scale keeps the slow cases (sleeps, timeouts) quick without changing results
    sim = await startSimNode({ timeScale: 0.02, model: 'interpreter' });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('has all 53 recorded cases', () => {
    expect(recording.cases).toHaveLength(53);
  });

  for (const c of recording.cases) {
    it(`${c.name}: answers ${c.response.status} as recorded`, async () => {
      const body = bodyOf(c);
      if (c.name === 'err-body-too-large') expect(Buffer.byteLength(body!)).toBeGreaterThan(102_400);
      const res = await request(`${sim.url}${c.request.path}`, {
        method: c.request.method as 'GET' | 'POST',
        headers: c.request.headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.body.text();
      expect(res.statusCode).toBe(c.response.status);
      if (c.response.status === 500) {
        expect(text).toBe('');
        return;
      }
      expect(res.headers['content-type']).toBe(c.response.contentType);
      const got = JSON.parse(text) as Record<string, unknown>;
      if (c.response.status !== 200 || c.request.method === 'GET') {
        // byte-for-byte equal as JSON, stack strings included
        expect(JSON.stringify(got)).toBe(JSON.stringify(c.response.body));
        return;
      }
      const want = c.response.body as Record<string, Record<string, unknown> | string>;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      expect(got.language).toBe(want.language);
      expect(got.version).toBe(want.version);
      for (const stage of ['run', 'compile'] as const) {
        expect(stage in got).toBe(stage in want);
        if (!(stage in want)) continue;
        const g = got[stage] as Record<string, unknown>;
        const w = want[stage] as Record<string, unknown>;
        expect(Object.keys(g).sort()).toEqual(STAGE_KEYS);
        expect(Object.keys(w).sort()).toEqual(STAGE_KEYS);
        expect({ status: g.status, code: g.code, signal: g.signal }).toEqual({ status: w.status, code: w.code, signal: w.signal });
      }
    });
  }

  it('reproduces the recorded stdout and stderr of every execution, not only the outcome', async () => {
    const executions = recording.cases.filter((c) => c.request.method === 'POST' && c.response.status === 200);
    expect(executions.length).toBeGreaterThan(20);
    for (const c of executions) {
      const res = await request(`${sim.url}${c.request.path}`, { method: 'POST', headers: c.request.headers, body: bodyOf(c)! });
      const got = (await res.body.json()) as Record<string, Record<string, unknown>>;
      const want = c.response.body as Record<string, Record<string, unknown>>;
      for (const stage of ['run', 'compile'] as const) {
        if (!want[stage]) continue;
        const fields = (s: Record<string, unknown>) => ({ case: c.name, stdout: normalizeBox(s.stdout), stderr: normalizeBox(s.stderr), output: normalizeBox(s.output), message: normalizeBox(s.message) });
        expect(fields(got[stage]!)).toEqual(fields(want[stage]!));
      }
    }
  });
});
