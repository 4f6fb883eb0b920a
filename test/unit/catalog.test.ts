import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { RuntimeCatalog } from '../../src/cluster/catalog.js';
import type { PistonRuntime } from '../../src/piston/types.js';

const ALL = JSON.parse(readFileSync(new URL('../fixtures/runtimes-all-packages.json', import.meta.url), 'utf8')) as PistonRuntime[];
const SMALL: PistonRuntime[] = [
  { language: 'python', version: '3.11.2', aliases: ['py', 'py3', 'python3'] },
  { language: 'c', version: '12.2.0', aliases: ['gcc'], runtime: 'gcc' },
];

describe('RuntimeCatalog.resolve', () => {
  const entries = RuntimeCatalog.merge(new Map([['a', ALL], ['b', SMALL]]));

  it('matches names and aliases case-insensitively and takes the newest version across nodes', () => {
    const result = RuntimeCatalog.resolve(entries, 'Python', '*', semver);
    expect(result).toMatchObject({ ok: true, choice: { language: 'python', version: '3.12.0', nodes: ['a'] } });
    expect(RuntimeCatalog.resolve(entries, 'PY3', undefined, semver)).toMatchObject({ ok: true, choice: { language: 'python' } });
  });

  it('honours a semver range and lists every node with that exact version', () => {
    expect(RuntimeCatalog.resolve(entries, 'python', '3.11', semver)).toMatchObject({ ok: true, choice: { version: '3.11.2' } });
    expect(RuntimeCatalog.resolve(entries, 'gcc', 'latest', semver)).toMatchObject({ ok: true, choice: { language: 'c', version: '12.2.0', nodes: ['b'] } });
    expect(RuntimeCatalog.resolve(entries, 'c', '10', semver)).toMatchObject({ ok: true, choice: { version: '10.2.0', nodes: ['a'] } });
    const same = RuntimeCatalog.merge(new Map([['a', SMALL], ['b', SMALL]]));
    const both = RuntimeCatalog.resolve(same, 'python', '3.x', semver);
    expect(both.ok && both.choice.nodes.sort()).toEqual(['a', 'b']);
  });

  it('says which versions exist when the range matches none', () => {
    const result = RuntimeCatalog.resolve(entries, 'python', '2.x', semver);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ reason: 'unknown_version' });
    expect((result as { versions: string[] }).versions[0]).toBe('3.12.0');
  });

  it('suggests close names for an unknown language', () => {
    const result = RuntimeCatalog.resolve(entries, 'pyhton', '*', semver);
    expect(result).toMatchObject({ ok: false, reason: 'unknown_language' });
    expect((result as { suggestions: string[] }).suggestions).toContain('python');
  });

  it('rejects a version that is not a range', () => {
    expect(RuntimeCatalog.resolve(entries, 'python', 'three', semver)).toMatchObject({ ok: false, reason: 'invalid_version' });
  });
});

describe('RuntimeCatalog fetching', () => {
  it('fetches once per node however many callers wait, and serves later lookups from the cache', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = vi.fn(async () => {
      await gate;
      return SMALL;
    });
    const catalog = new RuntimeCatalog({ ttlMs: 60_000, refreshAheadMs: 0, load });
    catalog.setNodes(['a']);
    const waiting = Promise.all(Array.from({ length: 20 }, () => catalog.lists()));
    release();
    const results = await waiting;
    expect(load).toHaveBeenCalledTimes(1);
    expect(results.every((map) => map.get('a') === results[0]!.get('a'))).toBe(true);
    await catalog.lists();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('still has the list when a health check stores it while a fetch is under way', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const catalog = new RuntimeCatalog({ ttlMs: 60_000, refreshAheadMs: 0, load: async () => { await gate; return SMALL; } });
    catalog.setNodes(['a']);
    const pending = catalog.lists();
    catalog.put('a', SMALL);
    release();
    expect((await pending).get('a')).toEqual(SMALL);
  });

  it('does not make every call wait again on a node whose first fetch failed', async () => {
    let now = 0;
    const load = vi.fn(async (node: string) => (node === 'down' ? Promise.reject(new Error('refused')) : SMALL));
    const catalog = new RuntimeCatalog({ ttlMs: 60_000, refreshAheadMs: 0, load, failureBackoffMs: 5000, now: () => now });
    catalog.setNodes(['up', 'down']);
    expect([...(await catalog.lists()).keys()]).toEqual(['up']);
    await catalog.lists();
    await catalog.lists();
    expect(load.mock.calls.filter(([node]) => node === 'down')).toHaveLength(1);
    now = 6000;
    await catalog.lists();
    expect(load.mock.calls.filter(([node]) => node === 'down')).toHaveLength(2);
    catalog.put('down', SMALL); // the health checker saw it come back
    expect([...(await catalog.lists()).keys()].sort()).toEqual(['down', 'up']);
  });

  it('refreshes in the background before the list goes stale', async () => {
    const load = vi.fn(async () => SMALL);
    const catalog = new RuntimeCatalog({ ttlMs: 1000, refreshAheadMs: 1000, load });
    catalog.setNodes(['a']);
    await catalog.lists();
    await catalog.lists(); // within refresh-ahead window: served from cache, refresh started
    await vi.waitFor(() => expect(load).toHaveBeenCalledTimes(2));
  });

  it('keeps the old list when a refresh fails, and a forced refresh replaces it', async () => {
    let fail = false;
    let list = SMALL;
    const catalog = new RuntimeCatalog({ ttlMs: 60_000, refreshAheadMs: 0, load: async () => (fail ? Promise.reject(new Error('down')) : list) });
    catalog.setNodes(['a']);
    await catalog.lists();
    fail = true;
    expect(await catalog.refresh('a')).toEqual(SMALL);
    fail = false;
    list = [SMALL[0]!];
    expect(await catalog.refresh('a')).toEqual([SMALL[0]]);
    expect((await catalog.lists()).get('a')).toEqual([SMALL[0]]);
  });
});
