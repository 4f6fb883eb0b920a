import { describe, expect, it } from 'vitest';
import { LeastLoaded, pickNode, RoundRobin, Weighted } from '../../src/cluster/balancer.js';
import type { BalancedHost } from '../../src/cluster/host.js';

function fake(name: string, options: { weight?: number; tier?: number; score?: number; saturated?: boolean } = {}): BalancedHost {
  return { name, weight: options.weight ?? 1, tier: options.tier ?? 0, saturated: options.saturated ?? false, loadScore: () => options.score ?? 1 };
}

describe('balancer', () => {
  it('round-robin cycles through the candidates', () => {
    const nodes = [fake('a'), fake('b'), fake('c')];
    const rr = new RoundRobin();
    expect(Array.from({ length: 6 }, () => rr.pick(nodes).name)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('weighted spreads picks in proportion to weight, interleaved', () => {
    const nodes = [fake('a', { weight: 5 }), fake('b', { weight: 1 }), fake('c', { weight: 1 })];
    const w = new Weighted();
    const picks = Array.from({ length: 70 }, () => w.pick(nodes).name);
    expect(picks.filter((p) => p === 'a')).toHaveLength(50);
    expect(picks.filter((p) => p === 'b')).toHaveLength(10);
    expect(picks.slice(0, 7).filter((p) => p === 'a')).toHaveLength(5);
  });

  it('least-loaded picks the less loaded of two random candidates', () => {
    const busy = fake('busy', { score: 10 });
    const idle = fake('idle', { score: 1 });
    let i = 0;
    const sequence = [0, 0, 0.9, 0.1];
    const ll = new LeastLoaded(() => sequence[i++ % sequence.length]!);
    expect(ll.pick([busy, idle]).name).toBe('idle');
    expect(ll.pick([busy, idle]).name).toBe('idle');
  });

  it('spills to the next tier only when the first is saturated', () => {
    const rr = new RoundRobin();
    const primary = fake('primary', { tier: 0 });
    const backup = fake('backup', { tier: 1 });
    expect(pickNode(rr, [backup, primary])!.name).toBe('primary');
    const full = fake('primary', { tier: 0, saturated: true });
    expect(pickNode(rr, [backup, full])!.name).toBe('backup');
    expect(pickNode(rr, [fake('p', { saturated: true }), fake('b', { tier: 1, saturated: true })])!.name).toBe('p');
    expect(pickNode(rr, [])).toBeUndefined();
  });
});
