/**
 * A node's runtime catalog and Piston's runtime resolution: exact, case-sensitive match on the
 * language or one of its aliases, version as a semver range, newest matching version wins.
 */
import semver from 'semver';
import type { PistonRuntime } from '../../piston/types.js';
import { ALL_RUNTIMES } from './catalog.js';

/** The runtimes of the node the v3.1.1 recordings were made on. */
export const DEFAULT_RUNTIMES: readonly PistonRuntime[] = [
  { language: 'c', version: '12.2.0', aliases: ['gcc'], runtime: 'gcc' },
  { language: 'c++', version: '12.2.0', aliases: ['cpp', 'g++'], runtime: 'gcc' },
  { language: 'javascript', version: '20.20.2', aliases: ['node-javascript', 'node-js', 'javascript', 'js'], runtime: 'node' },
  { language: 'python', version: '3.11.2', aliases: ['py', 'py3', 'python3', 'python3.11'] },
];

export type RuntimeSelection = 'default' | 'all' | readonly PistonRuntime[];

interface IndexedRuntime {
  runtime: PistonRuntime;
  parsed: semver.SemVer;
}

export class RuntimeCatalog {
  /** The exact JSON GET /api/v2/runtimes answers, serialized once. */
  readonly listingJson: string;
  readonly runtimes: readonly PistonRuntime[];
  private readonly byName = new Map<string, IndexedRuntime[]>();
  private readonly resolved = new Map<string, PistonRuntime | null>();

  constructor(selection: RuntimeSelection) {
    this.runtimes = (selection === 'default' ? DEFAULT_RUNTIMES : selection === 'all' ? ALL_RUNTIMES : selection).map(
      (rt) => ({ ...rt, aliases: [...rt.aliases] }),
    );
    this.listingJson = JSON.stringify(this.runtimes);
    for (const runtime of this.runtimes) {
      const parsed = semver.parse(runtime.version);
      if (!parsed) continue; // Piston could not load a package with an invalid version either
      for (const name of new Set([runtime.language, ...runtime.aliases])) {
        const list = this.byName.get(name) ?? [];
        list.push({ runtime, parsed });
        this.byName.set(name, list);
      }
    }
    for (const list of this.byName.values()) list.sort((a, b) => semver.rcompare(a.parsed, b.parsed));
  }

  /** The newest runtime whose language or alias is `language` and whose version satisfies `range`. */
  resolve(language: string, range: string): PistonRuntime | undefined {
    const key = `${language}\u0000${range}`;
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const match = this.byName.get(language)?.find((c) => semver.satisfies(c.parsed, range))?.runtime;
    if (this.resolved.size > 10_000) this.resolved.clear();
    this.resolved.set(key, match ?? null);
    return match;
  }
}
