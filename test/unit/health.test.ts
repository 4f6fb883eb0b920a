import { describe, expect, it } from 'vitest';
import { HealthChecker, type HealthTarget } from '../../src/cluster/health.js';

function target(name: string, script: boolean[]): HealthTarget & { calls: number } {
  const t = {
    name,
    healthy: true,
    calls: 0,
    check: async () => {
      const ok = script[Math.min(t.calls++, script.length - 1)];
      if (!ok) throw new Error('down');
      return [{ language: 'python', version: '3.11.2', aliases: [] }];
    },
  };
  return t;
}

describe('HealthChecker', () => {
  it('marks a node unhealthy after N failures in a row and healthy again after M successes', async () => {
    const changes: Array<[string, boolean]> = [];
    const checker = new HealthChecker({ intervalMs: 60_000, timeoutMs: 100, unhealthyThreshold: 3, healthyThreshold: 2, onChange: (n, h) => changes.push([n, h]) });
    const node = target('a', [false, false, true, false, false, false, true, true, true]);
    checker.setTargets([node]);
    const states: boolean[] = [];
    for (let i = 0; i < 9; i++) {
      await checker.checkAll();
      states.push(node.healthy);
    }
    // a failure streak broken by one success does not count; 3 in a row do; 2 successes bring it back
    expect(states).toEqual([true, true, true, true, true, false, false, true, true]);
    expect(changes).toEqual([['a', false], ['a', true]]);
    checker.close();
  });

  it('hands the runtime list of a successful check to its listener', async () => {
    const seen: unknown[] = [];
    const checker = new HealthChecker({ intervalMs: 60_000, timeoutMs: 100, unhealthyThreshold: 1, healthyThreshold: 1, onResult: (_n, ok, runtimes) => seen.push([ok, runtimes?.length]) });
    checker.setTargets([target('a', [true]), target('b', [false])]);
    await checker.checkAll();
    expect(seen).toEqual(expect.arrayContaining([[true, 1], [false, undefined]]));
    checker.close();
  });
});
