/**
 * The `pistom-sim:` directive: an explicit outcome for tests and benchmarks, the same in both
 * program models; and the directive model, which reads nothing else.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MODEL_NAMES, startSimNode, type SimNode } from '../../src/sim/index.js';
import { run, waitFor } from './support.js';
import { modelOf, stagesOf } from '../helpers/sim-model.js';

describe.each(MODEL_NAMES)('the directive in the %s model', (name) => {
  const model = modelOf(name);
  const stages = (language: string, content: string, extras = {}) => stagesOf(model, language, content, extras);

  it('sets stdout, code and wall time directly, on any line of the first file', () => {
    const { run: r } = stages('python', 'print("ignored")\n# pistom-sim: {"stdout":"hi\\n","code":0,"wall_ms":50}\n');
    expect(r).toMatchObject({ stdout: 'hi\n', stderr: '', output: 'hi\n', code: 0, status: null, signal: null, message: null, wall_time: 50 });
  });

  it('a non-zero code is RE with Piston\'s message; stderr and memory are taken as given', () => {
    const { run: r } = stages('javascript', '// pistom-sim: {"stderr":"bad\\n","code":3,"memory":1234,"cpu_ms":7}');
    expect(r).toMatchObject({ stderr: 'bad\n', code: 3, status: 'RE', message: 'Exited with error status 3', memory: 1234, cpu_time: 7 });
  });

  it('the node limits still apply unless status is given', () => {
    expect(stages('python', '# pistom-sim: {"stdout":"x","wall_ms":5000}').run).toMatchObject({ status: 'TO', signal: 'SIGKILL', code: null, message: 'Time limit exceeded (wall clock)' });
    expect(stages('python', `# pistom-sim: {"stdout":"${'y'.repeat(2000)}"}`).run).toMatchObject({ status: 'OL', stdout: '' });
    expect(stages('python', '# pistom-sim: {"status":"XX","message":"box failed","wall_ms":5000}').run).toMatchObject({ status: 'XX', message: 'box failed', code: null, wall_time: 5000 });
    expect(stages('python', '# pistom-sim: {"signal":"SIGKILL"}').run).toMatchObject({ status: 'SG', signal: 'SIGKILL', code: null });
  });

  it('a compile object sets the compile stage of compiled languages; a failed compile is copied to run', () => {
    const failed = stages('c', '// pistom-sim: {"compile":{"stderr":"error: nope\\n","code":1}}');
    expect(failed.compile).toMatchObject({ stderr: 'error: nope\n', code: 1, status: 'RE' });
    expect(failed.run).toEqual(failed.compile);
    const ok = stages('c++', '// pistom-sim: {"stdout":"ran\\n","compile":{"wall_ms":10}}');
    expect(ok.compile).toMatchObject({ code: 0, wall_time: 10 });
    expect(ok.run.stdout).toBe('ran\n');
    expect('compile' in stages('python', '# pistom-sim: {"stdout":"p\\n","compile":{"code":1}}')).toBe(false);
  });

  it('the rest of the program is not read: a C program that would not compile compiles', () => {
    const answer = stages('c', '// pistom-sim: {"stdout":"fine\\n"}\nint main() { return undeclared_thing; }');
    expect(answer.compile).toMatchObject({ code: 0, status: null });
    expect(answer.run).toMatchObject({ stdout: 'fine\n', code: 0 });
  });

  it('a malformed directive is reported on stderr with exit 1', () => {
    const { run: r } = stages('python', '# pistom-sim: {"stdout": nope}');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pistom-sim: invalid directive: /);
    expect(stages('python', '# pistom-sim: {"colour":"red"}').run.stderr).toBe('pistom-sim: invalid directive: unknown key "colour"\n');
  });

  it('the sandbox comes first: a memory limit below the cgroup floor is XX whatever the directive says', () => {
    expect(stages('python', '# pistom-sim: {"stdout":"hi\\n"}', { run_memory_limit: 3000 }).run).toMatchObject({ status: 'XX', stdout: '' });
  });
});

describe('the directive model', () => {
  const directive = modelOf('directive');

  it('gives the same outcome as the interpreter model for every directive program', () => {
    const interpreter = modelOf('interpreter');
    for (const [language, content] of [
      ['python', '# pistom-sim: {"stdout":"hi\\n","wall_ms":40}\nprint("hi")'],
      ['c', '// pistom-sim: {"compile":{"stderr":"e\\n","code":1}}'],
      ['javascript', '// pistom-sim: {"stderr":"x\\n","code":2}'],
    ] as const) {
      expect(stagesOf(directive, language, content)).toEqual(stagesOf(interpreter, language, content));
    }
  });

  it('a program without a directive exits 0 having printed nothing, in the runtime\'s usual time', () => {
    const { run: r } = stagesOf(directive, 'python', 'print("hi")\nraise SystemExit(3)');
    expect(r).toMatchObject({ stdout: '', stderr: '', output: '', code: 0, status: null, signal: null });
    expect(r.wall_time).toBeGreaterThan(0);
    const c = stagesOf(directive, 'c', 'int main() { return undeclared_thing; }');
    expect(c.compile).toMatchObject({ code: 0, status: null });
    expect(c.run).toMatchObject({ stdout: '', code: 0 });
  });
});

describe('the directive on a node', () => {
  let sim: SimNode;
  beforeAll(async () => {
    sim = await startSimNode({ timeScale: 0, model: 'directive' });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('answers the directive\'s outcome over HTTP', async () => {
    const answer = await run(sim.url, 'python', '# pistom-sim: {"stdout":"hi\\n","code":0,"wall_ms":50}\n');
    expect(answer.json().run).toMatchObject({ stdout: 'hi\n', code: 0, status: null, wall_time: 50 });
  });

  it('wall_ms is the time the job holds its slot (scaled by timeScale)', async () => {
    const real = await startSimNode({ slots: 1, model: 'directive' });
    try {
      const slow = run(real.url, 'python', '# pistom-sim: {"wall_ms":400}');
      await waitFor(() => real.stats().inFlight === 1);
      const next = run(real.url, 'python', '# pistom-sim: {"wall_ms":1}');
      await waitFor(() => real.stats().queued === 1);
      expect(real.stats().executed).toBe(0);
      await slow;
      await next;
      expect(real.stats().executed).toBe(2);
    } finally {
      await real.close();
    }
  });

  it('PISTOM_SIM_MODEL sets the model of nodes started without one; a wrong value says what is allowed', async () => {
    try {
      vi.stubEnv('PISTOM_SIM_MODEL', 'directive');
      const node = await startSimNode({ timeScale: 0 });
      try {
        expect((await run(node.url, 'python', 'print("hi")')).json().run).toMatchObject({ stdout: '', code: 0 });
      } finally {
        await node.close();
      }
      vi.stubEnv('PISTOM_SIM_MODEL', 'sandbox');
      await expect(startSimNode()).rejects.toThrow(/PISTOM_SIM_MODEL must be one of interpreter, directive, got "sandbox"/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a node refuses a model it does not know, saying which it knows', async () => {
    await expect(startSimNode({ model: 'real' as never })).rejects.toThrow(/model must be one of interpreter, directive or an object with simulate\(job\), got "real"/);
  });
});
