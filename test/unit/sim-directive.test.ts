/** The `pistom-sim:` directive: an explicit outcome for tests and benchmarks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { run, waitFor } from './sim-support.js';

let sim: SimNode;
beforeAll(async () => {
  sim = await startSimNode({ timeScale: 0 });
});
afterAll(async () => {
  await sim.close();
});

describe('sim directive', () => {
  it('sets stdout, code and wall time directly, on any line of the first file', async () => {
    const answer = await run(sim.url, 'python', 'print("ignored")\n# pistom-sim: {"stdout":"hi\\n","code":0,"wall_ms":50}\n');
    expect(answer.json().run).toMatchObject({ stdout: 'hi\n', stderr: '', output: 'hi\n', code: 0, status: null, signal: null, message: null, wall_time: 50 });
  });

  it('a non-zero code is RE with Piston\'s message; stderr and memory are taken as given', async () => {
    const { run: r } = (await run(sim.url, 'javascript', '// pistom-sim: {"stderr":"bad\\n","code":3,"memory":1234,"cpu_ms":7}')).json();
    expect(r).toMatchObject({ stderr: 'bad\n', code: 3, status: 'RE', message: 'Exited with error status 3', memory: 1234, cpu_time: 7 });
  });

  it('the node limits still apply unless status is given', async () => {
    const timedOut = (await run(sim.url, 'python', '# pistom-sim: {"stdout":"x","wall_ms":5000}')).json().run;
    expect(timedOut).toMatchObject({ status: 'TO', signal: 'SIGKILL', code: null, message: 'Time limit exceeded (wall clock)' });
    const tooLong = (await run(sim.url, 'python', `# pistom-sim: {"stdout":"${'y'.repeat(2000)}"}`)).json().run;
    expect(tooLong).toMatchObject({ status: 'OL', stdout: '' });
    const explicit = (await run(sim.url, 'python', '# pistom-sim: {"status":"XX","message":"box failed","wall_ms":5000}')).json().run;
    expect(explicit).toMatchObject({ status: 'XX', message: 'box failed', code: null, wall_time: 5000 });
    const signalled = (await run(sim.url, 'python', '# pistom-sim: {"signal":"SIGKILL"}')).json().run;
    expect(signalled).toMatchObject({ status: 'SG', signal: 'SIGKILL', code: null });
  });

  it('a compile object sets the compile stage of compiled languages; a failed compile is copied to run', async () => {
    const failed = (await run(sim.url, 'c', '// pistom-sim: {"compile":{"stderr":"error: nope\\n","code":1}}')).json();
    expect(failed.compile).toMatchObject({ stderr: 'error: nope\n', code: 1, status: 'RE' });
    expect(failed.run).toEqual(failed.compile);
    const ok = (await run(sim.url, 'c++', '// pistom-sim: {"stdout":"ran\\n","compile":{"wall_ms":10}}')).json();
    expect(ok.compile).toMatchObject({ code: 0, wall_time: 10 });
    expect(ok.run.stdout).toBe('ran\n');
    const interpreted = (await run(sim.url, 'python', '# pistom-sim: {"stdout":"p\\n","compile":{"code":1}}')).json();
    expect('compile' in interpreted).toBe(false);
  });

  it('a malformed directive is reported on stderr with exit 1', async () => {
    const { run: r } = (await run(sim.url, 'python', '# pistom-sim: {"stdout": nope}')).json();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pistom-sim: invalid directive: /);
    const unknownKey = (await run(sim.url, 'python', '# pistom-sim: {"colour":"red"}')).json().run;
    expect(unknownKey.stderr).toBe('pistom-sim: invalid directive: unknown key "colour"\n');
  });

  it('wall_ms is the time the job holds its slot (scaled by timeScale)', async () => {
    const real = await startSimNode({ slots: 1 });
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
});
