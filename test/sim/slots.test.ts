/** Job slots: a fixed number run at once, the rest wait in an unbounded FIFO queue (never 429/503). */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimNode } from '../../src/sim/index.js';
import { prints, run, startNode, waitFor } from './support.js';

describe('sim job slots', () => {
  let sim: SimNode | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('with 1 slot, runs jobs one at a time and finishes them in arrival order', async () => {
    sim = await startNode({ slots: 1, latencyMs: 15 });
    const node = sim;
    const finished: number[] = [];
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 6; i++) {
      pending.push(
        run(node.url, 'python', `# pistom-sim: {"stdout":"job ${i}\\n","wall_ms":5}`).then((answer) => {
          expect(answer.status).toBe(200);
          expect(answer.json().run.stdout).toBe(`job ${i}\n`);
          finished.push(i);
        }),
      );
      // the next request is sent only once this one has arrived, so arrival order is known
      await waitFor(() => node.stats().received === i + 1);
    }
    await Promise.all(pending);
    expect(finished).toEqual([0, 1, 2, 3, 4, 5]);
    const stats = node.stats();
    expect(stats.maxInFlight).toBe(1);
    expect(stats.executed).toBe(6);
    expect(stats.inFlight).toBe(0);
    expect(stats.queued).toBe(0);
  });

  it('queues beyond the slots instead of refusing, and never runs more than the slot count', async () => {
    sim = await startNode({ slots: 3, latencyMs: 300, timeScale: 0 });
    const node = sim;
    const answers = Array.from({ length: 10 }, (_, i) => run(node.url, 'python', prints(`${i}\n`)));
    await waitFor(() => node.stats().received === 10);
    await waitFor(() => node.stats().queued === 7);
    expect(node.stats().inFlight).toBe(3);
    const done = await Promise.all(answers);
    expect(done.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(done.map((a) => a.json().run.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
    expect(node.stats()).toMatchObject({ executed: 10, maxInFlight: 3, inFlight: 0, queued: 0 });
  });

  it('defaults to 64 slots, like PISTON_MAX_CONCURRENT_JOBS', async () => {
    sim = await startNode({ latencyMs: 500, timeScale: 0 });
    const node = sim;
    const answers = Array.from({ length: 70 }, () => run(node.url, 'python', prints('1\n')));
    await waitFor(() => node.stats().received === 70 && node.stats().inFlight + node.stats().queued === 70);
    expect(node.stats().inFlight).toBe(64);
    expect(node.stats().queued).toBe(6);
    await Promise.all(answers);
    expect(node.stats().maxInFlight).toBe(64);
  });

  it('setLatency changes the service time of later jobs', async () => {
    sim = await startNode({ slots: 1 });
    const node = sim;
    node.setLatency(200);
    const slow = run(node.url, 'python', prints('slow\n'));
    await waitFor(() => node.stats().inFlight === 1);
    // while the slow job holds the only slot, a second one must wait in the queue
    const queued = run(node.url, 'python', prints('queued\n'));
    await waitFor(() => node.stats().queued === 1);
    node.setLatency(0);
    expect((await slow).json().run.stdout).toBe('slow\n');
    expect((await queued).json().run.stdout).toBe('queued\n');
    expect(() => node.setLatency(-1)).toThrow(RangeError);
  });
});
