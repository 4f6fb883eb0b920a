/**
 * `pistom check` (built CLI) against a good node, an unreachable one and ones that do not speak
 * Piston; a config with wrong fields; --json; secrets in headers and URLs never printed.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { CLI, writeConfig } from '../helpers/pistom.js';
import { startRedis } from '../helpers/redis-server.js';
import { SECRET } from './ops-support.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function check(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'check', ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

/** An HTTP server that answers every request with `body` (a node that is not Piston). */
async function fakeNode(status: number, type: string, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

interface JsonReport {
  ok: boolean;
  config: { ok: boolean; problems: string[] };
  nodes: Array<{ name: string; url: string; ok: boolean; version: string | null; runtimes: number | null; languages: string[]; latency_ms: number | null; error: string | null }>;
}

describe('pistom check', () => {
  let sim: SimNode | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('passes a good node and prints its version, runtimes and latency', async () => {
    sim = await startSimNode({ name: 'good' });
    const run = await check(['--backend', sim.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('config ok (1 node)');
    expect(run.stdout).toMatch(/NODE\s+URL\s+STATUS\s+VERSION\s+RUNTIMES\s+LATENCY\s+DETAIL/);
    expect(run.stdout).toMatch(new RegExp(`${sim.url}/api/v2\\s+ok\\s+Piston v3\\.1\\.1\\s+4\\s+[\\d.]+ ms\\s+c, c\\+\\+, javascript, python`));
    expect(run.stdout).toContain('all nodes ok');
  });

  it('fails on unreachable and wrong-speaking nodes, naming what is wrong with each, in a table and as JSON', async () => {
    sim = await startSimNode();
    const unreachable = await closedPort();
    const notPiston = await fakeNode(200, 'application/json', '{"message":"Welcome to nginx"}');
    const html = await fakeNode(200, 'text/html', '<html>hello</html>');
    const notFound = await fakeNode(404, 'text/html', '<html>404</html>');
    servers.push(notPiston.server, html.server, notFound.server);
    const userinfo = new URL(sim.url);
    userinfo.username = 'admin';
    userinfo.password = SECRET;
    const file = writeConfig({
      nodes: [
        { name: 'good', url: userinfo.toString(), headers: { Authorization: `Bearer ${SECRET}` } },
        { name: 'down', url: unreachable, headers: { Authorization: `Bearer ${SECRET}` } },
        { name: 'nginx', url: notPiston.url },
        { name: 'html', url: html.url },
        { name: 'missing', url: notFound.url },
      ],
    });

    const run = await check(['--config', file]);
    expect(run.code).toBe(1);
    const rows = Object.fromEntries(run.stdout.split('\n').map((line) => [line.split(/\s+/)[0], line]));
    expect(rows.good).toMatch(/\sok\s+Piston v3\.1\.1/);
    // Each failure names the full URL pistom requested.
    expect(rows.down).toMatch(new RegExp(`FAIL.*GET ${unreachable}/api/v2/runtimes: cannot connect to node down \\(ECONNREFUSED\\)`));
    expect(rows.nginx).toMatch(/FAIL\s.*node nginx answered http:\S+\/api\/v2\/runtimes with JSON that is not a Piston runtime list \(not an array\)/);
    expect(rows.html).toMatch(/FAIL.*GET http:\S+\/api\/v2\/runtimes: node html answered its runtime list with invalid JSON/);
    expect(rows.missing).toMatch(/FAIL.*node missing answered HTTP 404 for http:\S+\/api\/v2\/runtimes: that URL is not a Piston API/);
    // The URL requested is named once.
    expect(rows.missing!.split(`${notFound.url}/api/v2/runtimes`)).toHaveLength(2);
    expect(run.stdout).toContain('4 node(s) failed');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(run.stdout).not.toContain('admin');

    const json = await check(['--config', file, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as JsonReport;
    expect(report.ok).toBe(false);
    expect(report.config).toEqual({ ok: true, problems: [] });
    expect(report.nodes.map((node) => [node.name, node.ok])).toEqual([
      ['good', true],
      ['down', false],
      ['nginx', false],
      ['html', false],
      ['missing', false],
    ]);
    expect(report.nodes[0]).toMatchObject({ url: `${sim.url}/api/v2`, version: 'Piston v3.1.1', runtimes: 4, languages: ['c', 'c++', 'javascript', 'python'], error: null });
    expect(report.nodes[0]!.latency_ms).toEqual(expect.any(Number));
    expect(report.nodes[1]).toMatchObject({ version: null, runtimes: null, latency_ms: null, error: expect.stringContaining('ECONNREFUSED') });
    expect(json.stdout + json.stderr).not.toContain(SECRET);
  });

  it('probes the fleet\'s Redis when one is configured (file or PISTOM_REDIS_URL), never printing its password', async () => {
    sim = await startSimNode({ name: 'good' });
    const redis = await startRedis({ password: SECRET });
    try {
      const file = writeConfig({ nodes: [{ name: 'good', url: sim.url }], shared: { redis_url: redis.url } });
      const run = await check(['--config', file]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^shared store: ok \(Redis \d+\.\d+\.\d+, PING [\d.]+ ms\)$/m);
      const json = JSON.parse((await check(['--config', file, '--json'])).stdout) as JsonReport & { shared: Record<string, unknown> };
      expect(json.ok).toBe(true);
      expect(json.shared).toMatchObject({ ok: true, version: expect.stringMatching(/^\d+\./), latency_ms: expect.any(Number), error: null });

      const wrongPassword = redis.url.replace(encodeURIComponent(SECRET), 'not-the-password');
      const refused = await check(['--backend', sim.url], { PISTOM_REDIS_URL: wrongPassword });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/^shared store: FAIL WRONGPASS .*\(the user or password in the URL is wrong\) \(pistom would serve with per-process limits until Redis answers\)$/m);
      // The nodes themselves are fine, and the summary says what failed.
      expect(refused.stdout).toMatch(/^all nodes ok; the shared store \(Redis\) failed$/m);

      const noPassword = `redis://127.0.0.1:${redis.port}`;
      const unauthenticated = await check(['--backend', sim.url], { PISTOM_REDIS_URL: noPassword });
      expect(unauthenticated.code).toBe(1);
      expect(unauthenticated.stdout).toMatch(/^shared store: FAIL NOAUTH .*\(this Redis needs a password: put it in the URL/m);

      await redis.kill();
      const down = await check(['--config', file, '--json', '--timeout-ms', '1000']);
      expect(down.code).toBe(1);
      const report = JSON.parse(down.stdout) as JsonReport & { shared: Record<string, unknown> };
      expect(report.ok).toBe(false);
      expect(report.nodes[0]!.ok).toBe(true);
      expect(report.shared).toMatchObject({ ok: false, version: null, latency_ms: null, error: expect.stringMatching(/ECONNREFUSED .*nothing listens at that address/) });
      for (const output of [run, refused, unauthenticated, down]) {
        expect(output.stdout + output.stderr).not.toContain(SECRET);
        expect(output.stdout + output.stderr).not.toContain(encodeURIComponent(SECRET));
        expect(output.stdout + output.stderr).not.toContain(redis.url);
      }
    } finally {
      await redis.close();
    }
  });

  it('says nothing about a shared store when none is configured', async () => {
    sim = await startSimNode({ name: 'good' });
    const run = await check(['--backend', sim.url]);
    expect(run.stdout).not.toContain('shared store');
    expect((JSON.parse((await check(['--backend', sim.url, '--json'])).stdout) as { shared: unknown }).shared).toBeNull();
  });

  it('fails a node whose runtime list is not Piston\'s', async () => {
    sim = await startSimNode({ name: 'garbled' });
    sim.setFault({ kind: 'garbage', paths: 'runtimes' });
    const run = await check(['--backend', sim.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL.*GET http:\S+\/api\/v2\/runtimes: node \S+ answered its runtime list with invalid JSON/);
  });

  it('exits 2 on a wrong config and names every wrong field with its path', async () => {
    const file = writeConfig({
      nodes: [{ url: 'ftp://x', headers: { Authorization: SECRET } }, { url: 'http://127.0.0.1:2000', max_concurrent: 0 }],
      balancer: { strategy: 'fastest' },
      retry: { max_attempts: 'three' },
    });
    const run = await check(['--config', file]);
    expect(run.code).toBe(2);
    for (const path of ['nodes[0].url', 'nodes[1].max_concurrent', 'balancer.strategy', 'retry.max_attempts']) expect(run.stderr).toContain(`  - ${path}: `);
    expect(run.stdout).toBe('');

    const json = await check(['--config', file, '--json']);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.stdout) as JsonReport;
    expect(report.ok).toBe(false);
    expect(report.config.ok).toBe(false);
    expect(report.config.problems).toHaveLength(4);
    expect(report.config.problems.find((p) => p.startsWith('nodes[0].url: '))).toBeDefined();
    expect(run.stderr + json.stdout).not.toContain(SECRET);
  });

  it('exits 2 when no node is configured at all, with a hint', async () => {
    const run = await check([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no Piston nodes configured: pass --backend URL/);
  });
});
