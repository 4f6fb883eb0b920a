/**
 * Balancer strategies. Each picks one host among candidates already filtered (runtime, caps,
 * health, ejection, breaker), reading only the host view's load figures. Tiers are applied first:
 * the lowest tier that has a host with a free slot wins; when every tier is saturated, the lowest
 * tier with an available host waits.
 */
import type { BalancedHost } from './host.js';

export type StrategyName = 'least-loaded' | 'round-robin' | 'weighted';

export interface Strategy {
  pick<H extends BalancedHost>(candidates: readonly H[]): H;
}

export type Random = () => number;

/** Power of two choices: two random candidates, the one with less outstanding work times latency wins. */
export class LeastLoaded implements Strategy {
  constructor(private readonly random: Random = Math.random) {}
  pick<H extends BalancedHost>(candidates: readonly H[]): H {
    if (candidates.length === 1) return candidates[0]!;
    const i = Math.floor(this.random() * candidates.length);
    let j = Math.floor(this.random() * (candidates.length - 1));
    if (j >= i) j++;
    const a = candidates[i]!;
    const b = candidates[j]!;
    return a.loadScore() <= b.loadScore() ? a : b;
  }
}

export class RoundRobin implements Strategy {
  private cursor = 0;
  pick<H extends BalancedHost>(candidates: readonly H[]): H {
    const node = candidates[this.cursor % candidates.length]!;
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    return node;
  }
}

/** Smooth weighted round-robin (as nginx does it): evenly interleaved, proportional to weight. */
export class Weighted implements Strategy {
  private readonly current = new Map<string, number>();
  pick<H extends BalancedHost>(candidates: readonly H[]): H {
    let total = 0;
    let best: H | undefined;
    let bestWeight = -Infinity;
    for (const node of candidates) {
      const weight = node.weight;
      total += weight;
      const value = (this.current.get(node.name) ?? 0) + weight;
      this.current.set(node.name, value);
      if (value > bestWeight) {
        bestWeight = value;
        best = node;
      }
    }
    this.current.set(best!.name, bestWeight - total);
    return best!;
  }
}

export function createStrategy(name: StrategyName, random?: Random): Strategy {
  switch (name) {
    case 'round-robin':
      return new RoundRobin();
    case 'weighted':
      return new Weighted();
    default:
      return new LeastLoaded(random);
  }
}

/**
 * Applies tiers, then the strategy. `candidates` must already be available nodes.
 * Returns undefined only when `candidates` is empty.
 */
export function pickNode<H extends BalancedHost>(strategy: Strategy, candidates: readonly H[]): H | undefined {
  if (candidates.length === 0) return undefined;
  const tiers = [...new Set(candidates.map((node) => node.tier))].sort((a, b) => a - b);
  for (const tier of tiers) {
    const free = candidates.filter((node) => node.tier === tier && !node.saturated);
    if (free.length > 0) return strategy.pick(free);
  }
  const lowest = candidates.filter((node) => node.tier === tiers[0]);
  return strategy.pick(lowest);
}
