/**
 * The simulated node with a program model of the test's own: the node hands the model each
 * validated job through ProgramModel and answers its outcome, whatever the model is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StageResult } from '../../src/piston/types.js';
import { startSimNode, type ExecuteJob, type ModelOutcome, type ProgramModel, type SimNode } from '../../src/sim/index.js';
import { post, run, waitFor } from './support.js';

const STAGE: StageResult = { stdout: 'out\n', stderr: '', output: 'out\n', code: 0, signal: null, message: null, status: null, cpu_time: 1, wall_time: 2, memory: 3 };

/** A model that answers `outcome` and remembers the jobs it was given. */
function fixedModel(outcome: Partial<ModelOutcome>): ProgramModel & { jobs: ExecuteJob[] } {
  const jobs: ExecuteJob[] = [];
  return {
    jobs,
    simulate(job) {
      jobs.push(job);
      return { run: STAGE, durationMs: 0, endless: false, ...outcome };
    },
  };
}

describe('the node with any ProgramModel', () => {
  let sim: SimNode;
  afterEach(async () => {
    await sim?.close();
  });

  it('answers the model\'s stages in Piston\'s key order, with the resolved runtime', async () => {
    sim = await startSimNode({ timeScale: 0, model: fixedModel({ compile: { ...STAGE, stdout: 'compiled\n' } }) });
    const answer = await run(sim.url, 'c', 'anything');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(
      '{"compile":{"signal":null,"stdout":"compiled\\n","stderr":"","code":0,"output":"out\\n","memory":3,"message":null,"status":null,"cpu_time":1,"wall_time":2},' +
        '"run":{"signal":null,"stdout":"out\\n","stderr":"","code":0,"output":"out\\n","memory":3,"message":null,"status":null,"cpu_time":1,"wall_time":2},' +
        '"language":"c","version":"12.2.0"}',
    );
  });

  it('hands the model the job as Piston builds it: first utf8 file, stdin with a newline, args spread, limits defaulted', async () => {
    const model = fixedModel({});
    sim = await startSimNode({ timeScale: 0, model, caps: { run_timeout: 2500 } });
    await post(`${sim.url}/api/v2/execute`, {
      language: 'py',
      version: '3.x',
      files: [{ name: 'data.bin', content: 'AAE=', encoding: 'base64' }, { name: 'm.py', content: 'main' }, { content: 'helper' }],
      stdin: ['a', 'b'],
      args: 'xy',
      run_cpu_time: 0,
    });
    expect(model.jobs).toHaveLength(1);
    const [job] = model.jobs;
    expect(job).toMatchObject({ runtime: { language: 'python', version: '3.11.2' }, main: { name: 'm.py', content: 'main', encoding: 'utf8' }, stdin: 'a,b\n', args: ['x', 'y'] });
    expect(job!.files.map((f) => f.name)).toEqual(['data.bin', 'm.py', 'file2.code']);
    expect(job!.limits).toEqual({ run_timeout: 2500, compile_timeout: 10000, run_cpu_time: 0, compile_cpu_time: 10000, run_memory_limit: -1, compile_memory_limit: -1 });
  });

  it('never asks the model about a request Piston refuses or fails', async () => {
    const model = fixedModel({});
    sim = await startSimNode({ timeScale: 0, model });
    expect((await run(sim.url, 'python', 'x', { run_timeout: 'soon' })).status).toBe(400);
    expect((await post(`${sim.url}/api/v2/execute`, { language: 'python', version: '*', files: [{ name: '../x', content: 'x' }] })).status).toBe(500);
    expect(model.jobs).toHaveLength(0);
  });

  it('holds the slot for the outcome\'s duration times the time scale', async () => {
    sim = await startSimNode({ slots: 1, timeScale: 2, model: fixedModel({ durationMs: 150 }) });
    const node = sim;
    const first = run(node.url, 'python', 'first');
    await waitFor(() => node.stats().inFlight === 1);
    const second = run(node.url, 'python', 'second');
    await waitFor(() => node.stats().queued === 1);
    await first;
    expect(node.stats()).toMatchObject({ executed: 1, inFlight: 1, queued: 0 });
    await second;
    expect(node.stats().executed).toBe(2);
  });

  it('an endless outcome holds its slot until the node stops', async () => {
    sim = await startSimNode({ timeScale: 0, model: fixedModel({ endless: true }) });
    const node = sim;
    const endless = run(node.url, 'python', 'forever').catch(() => 'failed');
    await waitFor(() => node.stats().inFlight === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(node.stats()).toMatchObject({ inFlight: 1, executed: 0 });
    await node.close();
    expect(await endless).toBe('failed');
  });
});
