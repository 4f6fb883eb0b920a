import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';

describe('config', () => {
  it('fills Piston defaults for caps and names nodes after host:port', () => {
    const config = parseConfig({ nodes: [{ url: 'http://10.0.0.5:2000' }] });
    expect(config.nodes[0]).toMatchObject({ name: '10.0.0.5:2000', max_concurrent: 64, tier: 0, weight: 1, caps: { run_timeout: 3000, compile_timeout: 10000, max_body_bytes: 102400 } });
    expect(config.admission.max_queue).toBeGreaterThan(0);
  });

  it('reports the path of every wrong field and what is allowed', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({ nodes: [{ url: 'ftp://x', max_concurrent: 0, bogus: 1 }, { url: 'http://a:1', tier: -1 }], balancer: { strategy: 'random' } });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    expect(text).toMatch(/nodes\[0\]\.url: must be an http/);
    expect(text).toMatch(/nodes\[0\]\.max_concurrent/);
    expect(text).toMatch(/nodes\[0\].*bogus/);
    expect(text).toMatch(/nodes\[1\]\.tier/);
    expect(text).toMatch(/balancer\.strategy: .*least-loaded.*round-robin.*weighted/);
  });

  it('rejects duplicate node names, listed with every other problem', () => {
    expect(() => parseConfig({ nodes: [{ url: 'http://a:1' }, { url: 'http://a:1' }] })).toThrow(/duplicate node name/);
    try {
      parseConfig({ nodes: [{ name: 'x', url: 'http://a:1', tier: -1 }, { name: 'x', url: 'http://b:1' }], admission: { max_queue: 'lots' } });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems.some((p) => p.startsWith('nodes[1].name: duplicate node name "x"'))).toBe(true);
      expect(problems.some((p) => p.startsWith('nodes[0].tier'))).toBe(true);
      expect(problems.some((p) => p.startsWith('admission.max_queue'))).toBe(true);
    }
  });

  it('names the flag or variable a wrong value came from', async () => {
    const error = (await loadConfig({ backends: ['http://a:1'], logLevel: 'loud' }, { PISTOM_AUTH_TOKENS: 'short' }).then(() => undefined, (e: unknown) => e)) as ConfigError;
    expect(error.problems.find((p) => p.startsWith('log.level'))).toMatch(/^log\.level \(from --log-level\): .*info/);
    expect(error.problems.find((p) => p.startsWith('http.auth_tokens'))).toMatch(/^http\.auth_tokens\[0\] \(from PISTOM_AUTH_TOKENS\): .*16 characters/);
    expect(error.message).toMatch(/--backend \+ --log-level \+ PISTOM_AUTH_TOKENS|--backend/);
  });

  it('turns HTTP on from the file (http.enabled) or from --http', async () => {
    expect(parseConfig({ nodes: [{ url: 'http://a:1' }] }).http.enabled).toBe(false);
    const viaFlag = await loadConfig({ backends: ['http://a:1'], http: { host: '127.0.0.1', port: 4000 } }, {});
    expect(viaFlag.http).toMatchObject({ enabled: true, port: 4000 });
  });

  it('takes nodes from flags over PISTOM_BACKENDS over the file, and tokens from the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pistom-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ nodes: [{ name: 'filenode', url: 'http://f:1' }], admission: { max_queue: 7 } }));
    const fromFile = await loadConfig({ configFile: file }, {});
    expect(fromFile.nodes.map((n) => n.name)).toEqual(['filenode']);
    const fromEnv = await loadConfig({ configFile: file }, { PISTOM_BACKENDS: 'http://e1:1, http://e2:2', PISTOM_AUTH_TOKENS: 'a'.repeat(20) });
    expect(fromEnv.nodes.map((n) => n.url)).toEqual(['http://e1:1', 'http://e2:2']);
    expect(fromEnv.admission.max_queue).toBe(7);
    expect(fromEnv.http.auth_tokens).toEqual(['a'.repeat(20)]);
    const fromFlags = await loadConfig({ configFile: file, backends: ['http://flag:3'] }, { PISTOM_BACKENDS: 'http://e1:1' });
    expect(fromFlags.nodes.map((n) => n.url)).toEqual(['http://flag:3']);
  });

  it('says where a file stops being JSON without quoting it (it may hold secrets)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pistom-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"nodes": [{"url": "http://a:1", "headers": {"authorization": "Bearer leaky-secret-9"}},]}');
    const error = (await loadConfig({ configFile: file }, {}).then(() => undefined, (e: unknown) => e)) as Error;
    expect(error.message).toMatch(/not valid JSON.*check commas/);
    expect(error.message).not.toContain('leaky-secret-9');
  });

  it('says how to configure nodes when there are none', async () => {
    await expect(loadConfig({}, {})).rejects.toThrow(/--backend URL/);
  });

  it('never echoes header values in errors', () => {
    try {
      parseConfig({ nodes: [{ url: 'http://a:1', headers: { 'bad header': 'Bearer top-secret-value' } }] });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('top-secret-value');
      expect((error as Error).message).toMatch(/headers/);
    }
  });

  it('accepts config/example.json, which sets every section', async () => {
    const config = await loadConfig({ configFile: new URL('../../config/example.json', import.meta.url).pathname }, {});
    expect(config.nodes.map((node) => node.name)).toEqual(['a', 'b', 'overflow']);
    expect(config.health.probe_timeout_ms).toBe(500);
  });

  it('keeps URL credentials out of a duplicate-name error, even from a URL that does not parse', () => {
    const url = 'http://user:PASSWORD-77@host.test:99999';
    let message = '';
    try {
      parseConfig({ nodes: [{ url }, { url }] });
    } catch (error) {
      message = (error as ConfigError).message;
    }
    expect(message).toContain('duplicate node name "host.test:99999"');
    expect(message).not.toContain('PASSWORD-77');
    expect(message).not.toContain('user');
  });

  it('emits a JSON Schema that describes nodes', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toContain('nodes');
    expect(JSON.stringify(schema.properties.nodes)).toContain('max_concurrent');
  });
});
