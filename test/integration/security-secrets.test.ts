/**
 * Secrets (node headers, a password in a node URL, bearer tokens) appear nowhere. One pistom runs at
 * trace level with every kind of secret configured; each test feeds them through one surface
 * (tool results and the status resource, the ops endpoints, refused logins, `pistom bench` and its
 * reports, `pistom check`, configuration errors, the log) and searches every byte it produced.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { CLI, connectHttp, startHttpPistom, writeConfig, type Connected, type HttpPistom } from '../helpers/pistom.js';
import { MCP_HEADERS, rawRequest, rpc } from '../helpers/raw-http.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import { waitFor } from './ops-support.js';

const SECRETS = {
  token: 'tok-SECRET-7f3a9c1e5b2d8f4a6c0e',
  nodeAuth: 'Bearer node-SECRET-91b2c3d4e5f60718',
  nodeKey: 'key-SECRET-a1b2c3d4e5f6a7b8',
  urlPassword: 'pw-SECRET-5e6f7a8b9c0d',
};
/** The distinctive part of each secret, so a partial echo is caught too. */
const NEEDLES = [...Object.values(SECRETS), 'SECRET-7f3a9c1e', 'SECRET-91b2c3d4', 'SECRET-a1b2c3d4', 'SECRET-5e6f7a8b'];

const figures = new FigureRecorder('security-secrets');
let searched = 0;
let outputs = 0;

/** Every secret that `text` holds, named with where it came from. */
function leaks(surface: string, text: string): string[] {
  outputs++;
  searched += text.length;
  return NEEDLES.filter((needle) => text.includes(needle)).map((needle) => `${surface}: ${needle}`);
}

function run(args: string[], timeoutMs = 60_000): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'trace' }, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, output: stdout + stderr });
    });
  });
}

describe('no secret appears in any output', () => {
  const sims: SimNode[] = [];
  let pistom: HttpPistom;
  let client: Connected;
  let config: string;
  let nodes: Array<Record<string, unknown>>;

  beforeAll(async () => {
    sims.push(...(await startSimCluster(2, { latencyMs: 5 })));
    const withPassword = new URL(sims[1]!.url);
    withPassword.username = 'ops';
    withPassword.password = SECRETS.urlPassword;
    nodes = [
      { name: 'a', url: sims[0]!.url, headers: { Authorization: SECRETS.nodeAuth, 'X-Api-Key': SECRETS.nodeKey } },
      { url: withPassword.toString(), headers: { 'X-Api-Key': SECRETS.nodeKey } },
    ];
    config = writeConfig({ nodes, http: { auth_tokens: [SECRETS.token] }, health: { interval_ms: 200 }, log: { level: 'trace' } });
    pistom = await startHttpPistom(['--config', config, '--log-level', 'trace'], { PISTOM_LOG_LEVEL: 'trace' });
    client = await connectHttp(pistom.url, { authorization: `Bearer ${SECRETS.token}` });
  });

  afterAll(async () => {
    figures.row({ class: 'secrets in output (logs, errors, status, metrics, check, bench, config errors)', tried: outputs, lost: 0, crashed: 0, note: `${outputs} outputs, ${Math.round(searched / 1024)} KiB searched` });
    figures.write();
    await client?.close();
    await pistom?.stop();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  it('tool results, errors and the status resource, with nodes failing and reflecting', async () => {
    const results = [
      await client.call('execute', { language: 'python', code: 'print("hi")' }),
      await client.call('execute', { language: 'cobol', code: 'x' }),
      await client.call('execute', { language: 'python', code: 'x', run_timeout: 999_999 }),
      await client.call('execute', { language: 'python', files: [{ name: '../x', content: 'x' }] }),
      await client.call('list_runtimes', {}),
    ];
    sims[0]!.setFault({ kind: 'reflect', paths: 'execute' });
    sims[1]!.setFault({ kind: 'status', status: 500, body: `{"message":"boom ${SECRETS.nodeKey}"}`, paths: 'execute' });
    results.push(...(await Promise.all(Array.from({ length: 6 }, (_, i) => client.call('execute', { language: 'python', code: `print(${i})` })))));
    sims[0]!.setFault({ kind: 'garbage' });
    sims[1]!.setFault({ kind: 'reset', paths: 'execute' });
    results.push(...(await Promise.all(Array.from({ length: 4 }, () => client.call('execute', { language: 'python', code: 'print(1)' })))));
    results.push(await client.call('cluster_status', {}));
    sims[0]!.setFault(null);
    sims[1]!.setFault(null);
    expect(results.some((r) => r.isError)).toBe(true);
    expect(results.some((r) => !r.isError)).toBe(true);
    expect([...leaks('tool results', JSON.stringify(results)), ...leaks('status resource', JSON.stringify(await client.client.readResource({ uri: 'pistom://cluster/status' })))]).toEqual([]);
  });

  it('/metrics, /readyz and /healthz', async () => {
    const found: string[] = [];
    for (const path of ['/metrics', '/readyz', '/healthz']) found.push(...leaks(path, (await rawRequest(`${pistom.url}${path}`, { method: 'GET', headers: { authorization: `Bearer ${SECRETS.token}` } })).text));
    expect(found).toEqual([]);
  });

  it('refused logins: no token, a node secret as a token, a near miss', async () => {
    const found: string[] = [];
    for (const authorization of [undefined, `Bearer ${SECRETS.nodeAuth}`, SECRETS.nodeAuth, `Bearer ${SECRETS.token}x`]) {
      const res = await rawRequest(`${pistom.url}/mcp`, { headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) }, body: rpc('tools/list') });
      expect(res.status).toBe(401);
      found.push(...leaks(`401 for ${authorization === undefined ? 'no token' : 'a wrong token'}`, JSON.stringify(res.headers) + res.text));
    }
    expect(found).toEqual([]);
  });

  it('pistom bench with the token: its output and its JSON and HTML reports, also against a dead target', async () => {
    const reportDir = mkdtempSync(join(tmpdir(), 'pistom-secrets-'));
    const bench = await run(['bench', '--mcp', `${pistom.url}/mcp`, '--header', `Authorization: Bearer ${SECRETS.token}`, '--requests', '20', '--concurrency', '2', '--json', join(reportDir, 'bench.json'), '--html', join(reportDir, 'bench.html')]);
    expect(bench.status, bench.output).toBe(0);
    const dead = await run(['bench', '--mcp', 'http://127.0.0.1:9/mcp', '--header', `Authorization: Bearer ${SECRETS.token}`, '--requests', '2', '--timeout', '2s']);
    expect([
      ...leaks('bench output', bench.output),
      ...leaks('bench JSON report', readFileSync(join(reportDir, 'bench.json'), 'utf8')),
      ...leaks('bench HTML report', readFileSync(join(reportDir, 'bench.html'), 'utf8')),
      ...leaks('bench against a dead target', dead.output),
    ]).toEqual([]);
  });

  it('pistom check, as a table and as JSON', async () => {
    const found: string[] = [];
    for (const flags of [[], ['--json']]) {
      const check = await run(['check', '--config', config, ...flags], 30_000);
      expect(check.output).toMatch(/ops|127\.0\.0\.1/);
      found.push(...leaks(`check ${flags.join(' ')}`, check.output));
    }
    expect(found).toEqual([]);
  });

  it('configuration errors: a short token, a bad header name, wrong types, a wrong scheme with a password', async () => {
    const badConfigs = [
      { nodes, http: { auth_tokens: [SECRETS.token.slice(0, 12)] } },
      { nodes: [{ url: sims[0]!.url, headers: { 'Bad Header': SECRETS.nodeKey } }] },
      { nodes: [{ url: sims[0]!.url, headers: { Authorization: 42 } }], http: { auth_tokens: SECRETS.token } },
      { nodes: [{ url: `ftp://ops:${SECRETS.urlPassword}@127.0.0.1:1`, headers: { Authorization: SECRETS.nodeAuth } }] },
      { nodes: [{ url: `http://ops:${SECRETS.urlPassword}@127.0.0.1:99999` }, { url: `http://ops:${SECRETS.urlPassword}@127.0.0.1:99999` }] },
    ];
    const found: string[] = [];
    for (const [index, bad] of badConfigs.entries()) {
      const serve = await run(['serve', '--config', writeConfig(bad)], 30_000);
      expect(serve.status, serve.output).toBe(2);
      found.push(...leaks(`bad config ${index}`, serve.output));
    }
    expect(found).toEqual([]);
  });

  it('the serve log at trace level, after all of the above (runs last)', async () => {
    await sims[1]!.stop();
    await waitFor(() => /failed its health checks/.test(pistom.stderr()), 'a failed health check in the log');
    await sims[1]!.start();
    expect(pistom.stderr().length).toBeGreaterThan(1000);
    expect(leaks('serve log (trace level)', pistom.stderr())).toEqual([]);
  });
});
