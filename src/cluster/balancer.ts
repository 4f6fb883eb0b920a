/**
 * Balancer strategies. Each picks one node among candidates the router already filtered
 * (runtime, caps, health, breaker). Tiers are applied first: the lowest tier that has a node with
 * a free slot wins; when every tier is saturated, the lowest tier with an available node waits.
 */
import type { ClusterNode } from './node.js';

export type StrategyName = 'least-loaded' | 'round-robin' | 'weighted';

export interface Strategy {
  pick(candidates: readonly ClusterNode[]): ClusterNode;
}

export type Random = () => number;

/** Power of two choices: two random candidates, the one with less outstanding work times latency wins. */
export class LeastLoaded implements Strategy {
  constructor(private readonly random: Random = Math.random) {}
  pick(candidates: readonly ClusterNode[]): ClusterNode {
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
  pick(candidates: readonly ClusterNode[]): ClusterNode {
    const node = candidates[this.cursor % candidates.length]!;
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    return node;
  }
}

/** Smooth weighted round-robin (as nginx does it): evenly interleaved, proportional to weight. */
export class Weighted implements Strategy {
  private readonly current = new Map<string, number>();
  pick(candidates: readonly ClusterNode[]): ClusterNode {
    let total = 0;
    let best: ClusterNode | undefined;
    let bestWeight = -Infinity;
    for (const node of candidates) {
      const weight = node.config.weight;
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
export function pickNode(strategy: Strategy, candidates: readonly ClusterNode[]): ClusterNode | undefined {
  if (candidates.length === 0) return undefined;
  const tiers = [...new Set(candidates.map((node) => node.config.tier))].sort((a, b) => a - b);
  for (const tier of tiers) {
    const free = candidates.filter((node) => node.config.tier === tier && !node.saturated);
    if (free.length > 0) return strategy.pick(free);
  }
  const lowest = candidates.filter((node) => node.config.tier === tiers[0]);
  return strategy.pick(lowest);
}
