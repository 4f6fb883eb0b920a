import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthChecker, type HealthTarget } from '../../src/cluster/health.js';
import { Host } from '../../src/cluster/host.js';
import type { NodeFault, RuntimeListOutcome } from '../../src/piston/outcome.js';

const config = parseConfig({ nodes: [{ name: 'a', url: 'http://a.test:2000' }, { name: 'b', url: 'http://b.test:2000' }] });
const DOWN: NodeFault = { class: 'node_fault', reason: 'connect', sent: false, message: 'cannot connect' };
const WRONG_PATH: NodeFault = { class: 'node_fault', reason: 'misconfigured', sent: true, status: 404, message: 'answered HTTP 404' };
const LIST = [{ language: 'python', version: '3.11.2', aliases: [] }];

function target(index: number, script: Array<boolean | NodeFault>, changes: Array<[string, boolean]> = []): HealthTarget & { calls: number } {
  const host = new Host(config.nodes[index]!, { breaker: config.breaker, processId: 'test' }, { onHealthChange: (n, h) => changes.push([n, h]) });
  const t = {
    host,
    calls: 0,
    check: async (): Promise<RuntimeListOutcome> => {
      const step = script[Math.min(t.calls++, script.length - 1)]!;
      if (step === true) return { ok: true, runtimes: LIST };
      return { ok: false, fault: step === false ? DOWN : step };
    },
  };
  return t;
}

function checker(overrides: Partial<ConstructorParameters<typeof HealthChecker>[0]> = {}): HealthChecker {
  return new HealthChecker({ intervalMs: 60_000, timeoutMs: 100, recheckMs: 60_000, probeTimeoutMs: 100, unhealthyThreshold: 3, healthyThreshold: 2, ...overrides });
}

describe('HealthChecker', () => {
  it('decides health at the first check, then needs N failures in a row to mark a node unhealthy and M successes to bring it back', async () => {
    const changes: Array<[string, boolean]> = [];
    const health = checker();
    const node = target(0, [true, false, false, true, false, false, false, true, true, true], changes);
    health.setTargets([node]);
    expect(node.host.health).toBe('unknown');
    expect(health.firstRoundDone).toBe(false);
    const states: string[] = [];
    for (let i = 0; i < 10; i++) {
      await health.checkAll();
      states.push(node.host.health);
    }
    expect(health.firstRoundDone).toBe(true);
    // a failure streak broken by one success does not count; 3 in a row do; 2 successes bring it back
    expect(states).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'unhealthy', 'unhealthy', 'healthy', 'healthy']);
    expect(changes).toEqual([['a', false], ['a', true]]);
    health.close();
  });

  it('marks a node that fails its very first check unhealthy at once (readiness must not wait for three failures)', async () => {
    const health = checker();
    const node = target(0, [false]);
    health.setTargets([node]);
    await health.checkAll();
    expect(node.host.health).toBe('unhealthy');
    expect(node.host.serving).toBe(false);
    health.close();
  });

  it('ejects a node that answers like something other than Piston at once, and readmits it at its first good answer', async () => {
    const health = checker();
    const node = target(0, [WRONG_PATH, WRONG_PATH, true]);
    health.setTargets([node]);
    await health.checkAll();
    expect(node.host.ejection).toMatchObject({ reason: 'misconfigured', by: 'test' });
    expect(node.host.available).toBe(false);
    await health.checkAll();
    expect(node.host.ejection?.reason).toBe('misconfigured');
    await health.checkAll();
    expect(node.host.ejection).toBeUndefined();
    health.close();
  });

  it('ejects a node whose liveness probe fails as unresponsive and tells the cluster, so that its calls can move', async () => {
    const told: string[] = [];
    const health = checker({ onUnresponsive: (host) => told.push(host.name) });
    const node = target(0, [true, false]);
    health.setTargets([node]);
    await health.checkAll();
    health.probe(node.host);
    health.probe(node.host); // deduplicated while the first one runs
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toEqual(['a']);
    expect(node.calls).toBe(2);
    expect(node.host.ejection?.reason).toBe('unresponsive');
    health.close();
  });

  it('hands the runtime list of a successful check to its listener', async () => {
    const seen: unknown[] = [];
    const health = checker({ unhealthyThreshold: 1, healthyThreshold: 1, onResult: (_n, ok, runtimes) => seen.push([ok, runtimes?.length]) });
    health.setTargets([target(0, [true]), target(1, [false])]);
    await health.checkAll();
    expect(seen).toEqual(expect.arrayContaining([[true, 1], [false, undefined]]));
    health.close();
  });
});
