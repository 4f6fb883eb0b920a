/**
 * Secrets (node headers, a password in a node URL, bearer tokens) appear nowhere: known secrets are
 * fed through every path (serve at trace level, successful and failing calls, status, runtimes,
 * the status resource, metrics, health, refused logins, `pistom check` as text and JSON, `pistom
 * bench` against pistom with the token, bad configs) and every byte of output is searched.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { CLI, connectHttp, startHttpPistom, writeConfig, type HttpPistom } from '../helpers/pistom.js';
import { MCP_HEADERS, rawRequest, rpc } from '../helpers/raw-http.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';

const SECRETS = {
  token: 'tok-SECRET-7f3a9c1e5b2d8f4a6c0e',
  nodeAuth: 'Bearer node-SECRET-91b2c3d4e5f60718',
  nodeKey: 'key-SECRET-a1b2c3d4e5f6a7b8',
  urlPassword: 'pw-SECRET-5e6f7a8b9c0d',
};
/** The distinctive part of each secret, so a partial echo is caught too. */
const NEEDLES = [...Object.values(SECRETS), 'SECRET-7f3a9c1e', 'SECRET-91b2c3d4', 'SECRET-a1b2c3d4', 'SECRET-5e6f7a8b'];

const figures = new FigureRecorder('security-secrets');
const sims: SimNode[] = [];
let pistom: HttpPistom | undefined;
afterAll(async () => {
  figures.write();
  await pistom?.stop();
  await Promise.all(sims.map((sim) => sim.close()));
});

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'trace' };
}

it('no secret appears in logs, results, errors, status, metrics, check or bench output', async () => {
  sims.push(...(await startSimCluster(2, { latencyMs: 5 })));
  const withPassword = new URL(sims[1]!.url);
  withPassword.username = 'ops';
  withPassword.password = SECRETS.urlPassword;
  const nodes = [
    { name: 'a', url: sims[0]!.url, headers: { Authorization: SECRETS.nodeAuth, 'X-Api-Key': SECRETS.nodeKey } },
    { url: withPassword.toString(), headers: { 'X-Api-Key': SECRETS.nodeKey } },
  ];
  const config = writeConfig({ nodes, http: { auth_tokens: [SECRETS.token] }, health: { interval_ms: 200 }, log: { level: 'trace' } });
  const outputs: Array<{ path: string; text: string }> = [];
  const keep = (path: string, text: string) => outputs.push({ path, text });

  pistom = await startHttpPistom(['--config', config, '--log-level', 'trace'], env());
  const client = await connectHttp(pistom.url, { authorization: `Bearer ${SECRETS.token}` });
  const results = [
    await client.call('execute', { language: 'python', code: 'print("hi")' }),
    await client.call('execute', { language: 'cobol', code: 'x' }),
    await client.call('execute', { language: 'python', code: 'x', run_timeout: 999_999 }),
    await client.call('execute', { language: 'python', files: [{ name: '../x', content: 'x' }] }),
    await client.call('list_runtimes', {}),
    await client.call('cluster_status', {}),
  ];
  sims[0]!.setFault({ kind: 'status', status: 500, body: '{"message":"boom"}' });
  sims[1]!.setFault({ kind: 'garbage' });
  results.push(...(await Promise.all(Array.from({ length: 8 }, () => client.call('execute', { language: 'python', code: 'print(1)' })))));
  await sims[1]!.stop();
  await new Promise((resolve) => setTimeout(resolve, 700)); // a few failed health checks get logged
  results.push(...(await Promise.all(Array.from({ length: 4 }, () => client.call('execute', { language: 'python', code: 'print(1)' })))));
  results.push(await client.call('cluster_status', {}));
  keep('tool results', JSON.stringify(results));
  keep('status resource', JSON.stringify(await client.client.readResource({ uri: 'pistom://cluster/status' })));
  expect(results.some((r) => r.isError)).toBe(true);
  expect(results.some((r) => !r.isError)).toBe(true);
  for (const path of ['/metrics', '/readyz', '/healthz']) keep(path, (await rawRequest(`${pistom.url}${path}`, { method: 'GET' })).text);
  for (const authorization of [undefined, `Bearer ${SECRETS.nodeAuth}`, SECRETS.nodeAuth, `Bearer ${SECRETS.token}x`]) {
    const res = await rawRequest(`${pistom.url}/mcp`, { headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) }, body: rpc('tools/list') });
    expect(res.status).toBe(401);
    keep(`401 for ${authorization === undefined ? 'no token' : 'a wrong token'}`, JSON.stringify(res.headers) + res.text);
  }
  await sims[1]!.start();
  sims[0]!.setFault(null);
  sims[1]!.setFault(null);

  const reportDir = mkdtempSync(join(tmpdir(), 'pistom-secrets-'));
  const bench = spawnSync(process.execPath, [CLI, 'bench', '--mcp', `${pistom.url}/mcp`, '--header', `Authorization: Bearer ${SECRETS.token}`, '--requests', '20', '--concurrency', '2', '--json', join(reportDir, 'bench.json'), '--html', join(reportDir, 'bench.html')], { encoding: 'utf8', env: env(), timeout: 60_000 });
  expect(bench.status, bench.stderr).toBe(0);
  keep('bench stdout+stderr', bench.stdout + bench.stderr);
  keep('bench JSON report', readFileSync(join(reportDir, 'bench.json'), 'utf8'));
  keep('bench HTML report', readFileSync(join(reportDir, 'bench.html'), 'utf8'));
  const badBench = spawnSync(process.execPath, [CLI, 'bench', '--mcp', 'http://127.0.0.1:9/mcp', '--header', `Authorization: Bearer ${SECRETS.token}`, '--requests', '2', '--timeout', '2s'], { encoding: 'utf8', env: env(), timeout: 60_000 });
  keep('bench against a dead target', badBench.stdout + badBench.stderr);

  for (const flags of [[], ['--json']]) {
    const check = spawnSync(process.execPath, [CLI, 'check', '--config', config, ...flags], { encoding: 'utf8', env: env(), timeout: 30_000 });
    keep(`check ${flags.join(' ')}`, check.stdout + check.stderr);
    expect(check.stdout).toMatch(/ops|127\.0\.0\.1/);
  }
  const badConfigs = [
    { nodes, http: { auth_tokens: [SECRETS.token.slice(0, 12)] } },
    { nodes: [{ url: sims[0]!.url, headers: { 'Bad Header': SECRETS.nodeKey } }] },
    { nodes: [{ url: sims[0]!.url, headers: { Authorization: 42 } }], http: { auth_tokens: SECRETS.token } },
    { nodes: [{ url: `ftp://ops:${SECRETS.urlPassword}@127.0.0.1:1`, headers: { Authorization: SECRETS.nodeAuth } }] },
  ];
  for (const [index, bad] of badConfigs.entries()) {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--config', writeConfig(bad)], { encoding: 'utf8', env: env(), timeout: 30_000 });
    expect(run.status, run.stderr).toBe(2);
    keep(`bad config ${index}`, run.stdout + run.stderr);
  }
  await client.close();
  expect(await pistom.stop()).toBe(0);
  keep('serve log (trace level)', pistom.stderr());
  expect(pistom.stderr().length).toBeGreaterThan(1000);

  const leaks = outputs.flatMap(({ path, text }) => NEEDLES.filter((needle) => text.includes(needle)).map((needle) => `${path}: ${needle}`));
  figures.row({ class: 'secrets in output (logs, errors, status, metrics, check, bench, config errors)', tried: outputs.length, lost: 0, crashed: 0, note: `${leaks.length} leaks in ${outputs.length} outputs (${Math.round(outputs.reduce((sum, o) => sum + o.text.length, 0) / 1024)} KiB searched)` });
  expect(leaks).toEqual([]);
});
