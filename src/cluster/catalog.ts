/**
 * The runtime catalog: each node's GET /api/v2/runtimes kept in an LRU with a TTL. One fetch per
 * node at a time (lru-cache dedupes concurrent fetches), a background refresh before a list goes
 * stale, and a forced refresh when a node says `runtime is unknown`.
 */
import { LRUCache } from 'lru-cache';
import type { PistonRuntime } from '../piston/types.js';

export interface CatalogOptions {
  ttlMs: number;
  refreshAheadMs: number;
  /**
   * Fetches one node's runtime list; must reject on failure. `maxAgeMs`: how old a list fetched by
   * another process may be and still do (a shared store; ttl for a miss, less for a refresh).
   */
  load: (node: string, signal: AbortSignal, maxAgeMs: number) => Promise<PistonRuntime[]>;
  onRefresh?: (node: string, outcome: 'ok' | 'error') => void;
  /** A list was asked for: served from the cache (hit) or fetched (miss). */
  onLookup?: (node: string, outcome: 'hit' | 'miss') => void;
  /**
   * After a failed fetch of a node with no list yet, calls skip that node (rather than wait on it
   * again) for this long; the health checker's next success stores its list. Default 5000.
   */
  failureBackoffMs?: number;
  now?: () => number;
}

export interface RuntimeChoice {
  language: string;
  version: string;
  /** Nodes that offer exactly this language and version. */
  nodes: string[];
}

export interface CatalogEntry {
  language: string;
  version: string;
  aliases: string[];
  nodes: string[];
}

/** What resolving a version range needs of semver (loaded by the caller only for a range: a stdio server starts faster without it). */
export interface VersionRanges {
  validRange(range: string, options: { loose: boolean }): string | null;
  maxSatisfying(versions: readonly string[], range: string, options: { loose: boolean }): string | null;
}

export type Resolution =
  | { ok: true; choice: RuntimeChoice }
  | { ok: false; reason: 'unknown_language'; suggestions: string[]; languages: string[] }
  | { ok: false; reason: 'unknown_version'; language: string; range: string; versions: string[] }
  | { ok: false; reason: 'invalid_version'; version: string };

/** `*`, `latest`, `x` or nothing: the newest version. */
export function isNewestRange(version: string | undefined): boolean {
  const v = (version ?? '').trim().toLowerCase();
  return v === '' || v === '*' || v === 'latest' || v === 'x';
}

/** A forced refresh (a node said "runtime is unknown") takes a list another process fetched this recently. */
const FORCED_REFRESH_MAX_AGE_MS = 1_000;

export class RuntimeCatalog {
  private readonly cache: LRUCache<string, PistonRuntime[], number | undefined>;
  private readonly options: CatalogOptions;
  private nodeNames: string[] = [];
  /** When each node's last fetch failed (only while it has no list). */
  private readonly failedAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(options: CatalogOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache<string, PistonRuntime[], number | undefined>({
      max: 1024,
      ttl: options.ttlMs,
      allowStale: true,
      allowStaleOnFetchRejection: true,
      allowStaleOnFetchAbort: true,
      noDeleteOnStaleGet: true,
      ignoreFetchAbort: false,
      fetchMethod: async (node, _stale, { signal, context }) => {
        try {
          const list = await this.options.load(node, signal, context ?? options.ttlMs);
          this.failedAt.delete(node);
          this.options.onRefresh?.(node, 'ok');
          return list;
        } catch (error) {
          this.failedAt.set(node, this.now());
          this.options.onRefresh?.(node, 'error');
          throw error;
        }
      },
    });
  }

  setNodes(names: string[]): void {
    this.nodeNames = [...names];
    for (const key of [...this.cache.keys()]) if (!names.includes(key)) this.cache.delete(key);
    for (const key of [...this.failedAt.keys()]) if (!names.includes(key)) this.failedAt.delete(key);
  }

  /** A list just read by someone else (the health checker): store it without another request. */
  put(node: string, runtimes: PistonRuntime[]): void {
    this.failedAt.delete(node);
    this.cache.set(node, runtimes);
  }

  /** Forces a refresh of one node; resolves when it is done (never rejects). */
  async refresh(node: string): Promise<PistonRuntime[] | undefined> {
    try {
      return await this.cache.fetch(node, { forceRefresh: true, allowStale: false, context: FORCED_REFRESH_MAX_AGE_MS });
    } catch {
      return this.cache.get(node, { allowStale: true });
    }
  }

  /** The lists of every node, fetching the missing ones (in parallel) and refreshing stale ones ahead. */
  async lists(): Promise<Map<string, PistonRuntime[]>> {
    const result = new Map<string, PistonRuntime[]>();
    await Promise.all(
      this.nodeNames.map(async (node) => {
        const list = await this.get(node);
        if (list) result.set(node, list);
      }),
    );
    return result;
  }

  private async get(node: string): Promise<PistonRuntime[] | undefined> {
    const cached = this.cache.get(node, { allowStale: true });
    this.options.onLookup?.(node, cached ? 'hit' : 'miss');
    if (cached) {
      const remaining = this.cache.getRemainingTTL(node);
      if (remaining <= this.options.refreshAheadMs) void this.cache.fetch(node, { forceRefresh: true, allowStale: false, context: Math.max(0, this.options.ttlMs - this.options.refreshAheadMs) }).catch(() => undefined);
      return cached;
    }
    // A node that is down or hanging must not make every call wait for its list again.
    const failed = this.failedAt.get(node);
    if (failed !== undefined && this.now() - failed < (this.options.failureBackoffMs ?? 5000)) return undefined;
    try {
      const fetched = await this.cache.fetch(node);
      if (fetched) return fetched;
    } catch {
      // fall through: the list may have arrived by another way meanwhile
    }
    // A health check that stores its list while this fetch runs aborts the fetch (lru-cache's set()
    // does); the list is then in the cache all the same.
    return this.cache.get(node, { allowStale: true });
  }

  /** Cached lists only, no I/O (for status output). */
  peek(node: string): PistonRuntime[] | undefined {
    return this.cache.get(node, { allowStale: true });
  }

  /** Merges the nodes' lists: one entry per language and version, with the nodes offering it. */
  static merge(lists: Map<string, PistonRuntime[]>): CatalogEntry[] {
    const byKey = new Map<string, CatalogEntry>();
    for (const [node, runtimes] of lists) {
      for (const runtime of runtimes) {
        const key = `${runtime.language}\u0000${runtime.version}`;
        let entry = byKey.get(key);
        if (!entry) {
          entry = { language: runtime.language, version: runtime.version, aliases: [...runtime.aliases], nodes: [] };
          byKey.set(key, entry);
        }
        for (const alias of runtime.aliases) if (!entry.aliases.includes(alias)) entry.aliases.push(alias);
        if (!entry.nodes.includes(node)) entry.nodes.push(node);
      }
    }
    return [...byKey.values()].sort((a, b) => a.language.localeCompare(b.language) || compareVersions(b.version, a.version));
  }

  /** Picks language (name or alias, case-insensitive) and version across the cluster. */
  static resolve(entries: CatalogEntry[], language: string, version: string | undefined, ranges?: VersionRanges): Resolution {
    const wanted = language.trim().toLowerCase();
    const matching = entries.filter((entry) => entry.language.toLowerCase() === wanted || entry.aliases.some((alias) => alias.toLowerCase() === wanted));
    if (matching.length === 0) {
      const languages = [...new Set(entries.map((entry) => entry.language))].sort();
      return { ok: false, reason: 'unknown_language', suggestions: suggest(wanted, entries), languages };
    }
    // An alias may be shared by several languages (Piston lists `javascript` as an alias of node's runtime):
    // prefer the language whose own name was asked for.
    const exact = matching.filter((entry) => entry.language.toLowerCase() === wanted);
    const pool = exact.length > 0 ? exact : matching;
    const versions = [...new Set(pool.map((entry) => entry.version))];
    let chosen: string | null;
    if (isNewestRange(version)) {
      chosen = versions.sort(compareVersions).at(-1) ?? null;
    } else {
      const range = version!.trim();
      if (!ranges) throw new Error('a version range needs semver: pass it to RuntimeCatalog.resolve');
      if (ranges.validRange(range, { loose: true }) === null) return { ok: false, reason: 'invalid_version', version: range };
      chosen = ranges.maxSatisfying(versions, range, { loose: true });
    }
    const language0 = pool[0]!.language;
    if (!chosen) return { ok: false, reason: 'unknown_version', language: language0, range: version ?? '*', versions: versions.sort(compareVersions).reverse() };
    const hits = pool.filter((entry) => entry.version === chosen);
    const nodes = [...new Set(hits.flatMap((entry) => entry.nodes))];
    return { ok: true, choice: { language: hits[0]!.language, version: chosen, nodes } };
  }

  clear(): void {
    this.cache.clear();
  }
}

/** Orders versions by their first three numbers (as semver's coerce reads them), then as text. */
function compareVersions(a: string, b: string): number {
  const na = versionNumbers(a);
  const nb = versionNumbers(b);
  for (let i = 0; i < 3; i++) if (na[i] !== nb[i]) return na[i]! - nb[i]!;
  return a.localeCompare(b);
}

function versionNumbers(version: string): [number, number, number] {
  const parts = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version);
  return parts ? [Number(parts[1]), Number(parts[2] ?? 0), Number(parts[3] ?? 0)] : [-1, -1, -1];
}

/** Names considered for suggestions at most: a hostile node's huge list must not cost seconds per call. */
const MAX_SUGGESTION_NAMES = 5_000;

function suggest(wanted: string, entries: CatalogEntry[]): string[] {
  const names = new Set<string>();
  for (const entry of entries) {
    if (names.size >= MAX_SUGGESTION_NAMES) break;
    names.add(entry.language);
    for (const alias of entry.aliases) names.add(alias);
  }
  const maxDistance = Math.max(2, Math.floor(wanted.length / 3));
  const scored: Array<{ name: string; distance: number }> = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    if (wanted.length >= 2 && lower.startsWith(wanted)) scored.push({ name, distance: 0.5 });
    else if (Math.abs(lower.length - wanted.length) <= maxDistance) {
      const distance = levenshtein(wanted, lower);
      if (distance <= maxDistance) scored.push({ name, distance });
    }
  }
  scored.sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name));
  return scored.slice(0, 5).map((item) => item.name);
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
