/**
 * Memory limits as a real node's sandbox applies them: below the kernel's cgroup floor isolate
 * cannot set the limit (HTTP 200, status XX), under what the runtime needs to start it is killed
 * at once (SG), and a compile-stage failure makes run a copy of compile. The sandbox is shared by
 * both program models, so each case runs on both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_FLOOR_BYTES, MODEL_NAMES, startSimNode, type SimNode, type SimNodeOptions } from '../../src/sim/index.js';
import { parseSimArgs } from '../../src/sim/cli.js';
import { prints, run } from './support.js';

const XX_FIELDS = { code: null, signal: null, memory: null, cpu_time: null, wall_time: null, status: 'XX', stdout: '' };
const REFUSAL = /^Cannot set \/sys\/fs\/cgroup\/memory\/isolate\/box-(\d+)\/memory\.limit_in_bytes to (\d+)$/;

const PRINT_1 = prints('1\n');

describe('sim memory limits below the cgroup floor', () => {
  it('defaults to a floor of 8192 bytes, as observed on real nodes', () => {
    expect(DEFAULT_MEMORY_FLOOR_BYTES).toBe(8192);
  });

  it('rejects a negative floor', async () => {
    await expect(startSimNode({ memoryFloorBytes: -1 })).rejects.toThrow(/memoryFloorBytes must be a non-negative number/);
  });

  it('pistom sim --memory-floor sets it, and says what is allowed when wrong', () => {
    expect(parseSimArgs(['--memory-floor', '65536']).options.memoryFloorBytes).toBe(65536);
    expect(parseSimArgs(['--memory-floor', '0']).options.memoryFloorBytes).toBe(0);
    expect(parseSimArgs([]).options.memoryFloorBytes).toBeUndefined();
    expect(() => parseSimArgs(['--memory-floor', 'big'])).toThrow(/--memory-floor must be an integer >= 0, got "big"/);
  });
});

describe.each(MODEL_NAMES)('memory limits in the %s model', (model) => {
  let sim: SimNode;
  const startSim = (options: SimNodeOptions = {}) => startSimNode({ timeScale: 0, model, ...options });
  afterEach(async () => {
    await sim?.close();
  });

  it.each([
    [3000, 3072],
    [4096, 4096],
    [7999, 7168],
  ])('run_memory_limit %i: 200 with status XX and isolate\'s message for %i bytes', async (limit, cgroupBytes) => {
    sim = await startSim();
    const answer = await run(sim.url, 'python', PRINT_1, { run_memory_limit: limit });
    expect(answer.status).toBe(200);
    const { run: stage, compile } = answer.json();
    expect(compile).toBeUndefined();
    expect(stage).toMatchObject(XX_FIELDS);
    const [, box, bytes] = REFUSAL.exec(stage.message as string)!;
    expect(Number(bytes)).toBe(cgroupBytes);
    expect(Number(box)).toBeGreaterThanOrEqual(0);
    expect(Number(box)).toBeLessThan(999);
    expect(stage.stderr).toBe(`${stage.message as string}\n: Device or resource busy\n`);
    expect(stage.output).toBe(stage.stderr);
  });

  it('the same request gets the same XX on every node (a request fault, not a node fault)', async () => {
    sim = await startSim();
    const other = await startSim();
    try {
      const a = await run(sim.url, 'python', PRINT_1, { run_memory_limit: 3000 });
      const b = await run(other.url, 'python', PRINT_1, { run_memory_limit: 3000 });
      expect(a.json().run.status).toBe('XX');
      expect(b.json().run.status).toBe('XX');
    } finally {
      await other.close();
    }
  });

  it('compile_memory_limit below the floor: compile is XX and run is a copy of it', async () => {
    sim = await startSim();
    const answer = await run(sim.url, 'c', 'int main(){ return 0; }', { compile_memory_limit: 4000 });
    expect(answer.status).toBe(200);
    const { compile, run: stage } = answer.json();
    expect(compile).toMatchObject(XX_FIELDS);
    expect(REFUSAL.exec(compile!.message as string)![2]).toBe('4096');
    expect(stage).toEqual(compile);
  });

  it('a compiled language with a tiny run limit compiles, then its run is XX', async () => {
    sim = await startSim();
    const { compile, run: stage } = (await run(sim.url, 'c', '#include <stdio.h>\nint main(){ puts("hi"); return 0; }', { run_memory_limit: 3000 })).json();
    expect(compile).toMatchObject({ status: null, code: 0 });
    expect(stage).toMatchObject(XX_FIELDS);
  });

  it('limits the kernel accepts but the runtime cannot start in: SIGKILL before any output (SG)', async () => {
    sim = await startSim();
    for (const limit of [8192, 100_000]) {
      const { run: stage } = (await run(sim.url, 'python', PRINT_1, { run_memory_limit: limit })).json();
      expect(stage).toMatchObject({ status: 'SG', signal: 'SIGKILL', code: null, message: 'Caught fatal signal 9', stdout: '', stderr: '', output: '', memory: limit });
    }
    const { compile, run: stage } = (await run(sim.url, 'c', 'int main(){ return 0; }', { compile_memory_limit: 100_000 })).json();
    expect(compile).toMatchObject({ status: 'SG', signal: 'SIGKILL', code: null });
    expect(stage).toEqual(compile);
  });

  it('limits isolate does not apply (under 1000 bytes: --cg-mem=0; negative: none) and ample ones run normally', async () => {
    sim = await startSim();
    for (const limit of [999, -1, 50_000_000]) {
      const { run: stage } = (await run(sim.url, 'python', PRINT_1, { run_memory_limit: limit })).json();
      expect({ limit, status: stage.status, stdout: stage.stdout }).toEqual({ limit, status: null, stdout: '1\n' });
    }
  });

  it('memoryFloorBytes moves the floor; 0 turns XX off', async () => {
    sim = await startSim({ memoryFloorBytes: 200_000 });
    expect((await run(sim.url, 'python', PRINT_1, { run_memory_limit: 100_000 })).json().run.status).toBe('XX');
    expect((await run(sim.url, 'python', PRINT_1, { run_memory_limit: 300_000 })).json().run.status).toBe('SG');
    await sim.close();
    sim = await startSim({ memoryFloorBytes: 0 });
    expect((await run(sim.url, 'python', PRINT_1, { run_memory_limit: 3000 })).json().run.status).toBe('SG');
  });
});
