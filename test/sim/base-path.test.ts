/**
 * A node served under a base path, the way the public Piston API is (https://emkc.org/api/v2/piston:
 * GET {base}/runtimes, POST {base}/execute, everything else 404 like Express). A router pointed at
 * such a node's root gets 404s: a misconfigured node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { SimNode } from '../../src/sim/index.js';
import { parseSimArgs } from '../../src/sim/cli.js';
import { spawnSim, type SimProcess } from '../helpers/sim-process.js';
import { get, post, prints, startNode } from './support.js';

const NOT_FOUND = '{"message":"Not Found"}';
const PY = { language: 'python', version: '*', files: [{ content: prints('based\n') }] };

describe('sim base path', () => {
  let sim: SimNode;
  afterEach(async () => {
    await sim?.close();
  });

  it('serves {base}/runtimes and {base}/execute; apiUrl is the URL to configure a router with', async () => {
    sim = await startNode({ timeScale: 0, basePath: '/api/v2/piston' });
    expect(sim.apiUrl).toBe(`${sim.url}/api/v2/piston`);
    const runtimes = await get(`${sim.apiUrl}/runtimes`);
    expect(runtimes.status).toBe(200);
    expect(JSON.parse(runtimes.text)).toHaveLength(4);
    const executed = await post(`${sim.apiUrl}/execute`, PY);
    expect(executed.status).toBe(200);
    expect(executed.json().run.stdout).toBe('based\n');
    // Express routing: case-insensitive, one trailing slash ignored
    expect((await get(`${sim.url}/API/v2/Piston/runtimes/`)).status).toBe(200);
  });

  it('answers 404 {"message":"Not Found"} to everything else, the root and Piston\'s own paths included', async () => {
    sim = await startNode({ timeScale: 0, basePath: '/api/v2/piston' });
    for (const path of ['/', '/api/v2/runtimes', '/api/v2/piston', '/api/v2/piston/packages', '/api/v2/piston/api/v2/runtimes', '/runtimes']) {
      const answer = await get(`${sim.url}${path}`);
      expect({ path, status: answer.status, text: answer.text }).toEqual({ path, status: 404, text: NOT_FOUND });
    }
    const rootExecute = await post(`${sim.url}/api/v2/execute`, PY);
    expect({ status: rootExecute.status, text: rootExecute.text }).toEqual({ status: 404, text: NOT_FOUND });
    expect((await get(`${sim.apiUrl}/execute`)).status).toBe(404); // GET is not a route
  });

  it('keeps Piston\'s content-type check below the base path', async () => {
    sim = await startNode({ timeScale: 0, basePath: '/api/v2/piston' });
    const answer = await post(`${sim.apiUrl}/execute`, JSON.stringify(PY), { 'content-type': 'text/plain' });
    expect(answer.status).toBe(415);
  });

  it('the admin API stays at the root', async () => {
    sim = await startNode({ timeScale: 0, basePath: '/piston' });
    const stats = JSON.parse((await get(`${sim.url}/__sim/stats`)).text) as { apiUrl: string };
    expect(stats.apiUrl).toBe(`${sim.url}/piston`);
  });

  it('without a base path the node serves / and /api/v2/... at its root, and apiUrl is its url', async () => {
    sim = await startNode({ timeScale: 0 });
    expect(sim.apiUrl).toBe(sim.url);
    expect((await get(`${sim.url}/`)).text).toBe('{"message":"Piston v3.1.1"}');
    expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200);
    expect((await get(`${sim.url}/api/v2/piston/runtimes`)).status).toBe(404);
  });

  it('a base path of "/" serves /runtimes and /execute at the root', async () => {
    sim = await startNode({ timeScale: 0, basePath: '/' });
    expect(sim.apiUrl).toBe(sim.url);
    expect((await get(`${sim.url}/runtimes`)).status).toBe(200);
    expect((await get(`${sim.url}/`)).status).toBe(404);
  });

  it.each(['api/v2/piston', '/a?b', '/a//b', '/__sim/x', '/a b'])('refuses the base path %j with what is allowed', async (basePath) => {
    await expect(startNode({ basePath })).rejects.toThrow(/base path must/);
    expect(() => parseSimArgs(['--base-path', basePath])).toThrow(/--base-path: base path must/);
  });
});

describe('pistom sim --base-path', () => {
  let proc: SimProcess | undefined;
  afterEach(async () => {
    await proc?.close();
  });

  it('prints each node\'s apiUrl with --json and serves the API below it', async () => {
    expect(parseSimArgs(['--base-path', '/api/v2/piston']).options.basePath).toBe('/api/v2/piston');
    proc = await spawnSim({ count: 2, flags: ['--time-scale', '0', '--base-path', '/api/v2/piston/'] });
    for (const node of proc.nodes) {
      expect(node.apiUrl).toBe(`${node.url}/api/v2/piston`);
      const res = await request(`${node.apiUrl}/runtimes`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      expect((await get(`${node.url}/api/v2/runtimes`)).status).toBe(404);
    }
  });
});
