/**
 * Nodes and requests that try to hurt a router: a node that drip-feeds its answer, a node that
 * reflects request headers (secrets included) in its error text, faults that strike only one
 * poison request, file names that only look safe, and a huge runtime list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { SimNode } from '../../src/sim/index.js';
import type { PistonRuntime } from '../../src/piston/types.js';
import { get, post, prints, run, startNode } from './support.js';

const SECRET = 'Bearer node-secret-7f3a';

describe('sim hostile nodes and poison requests', () => {
  let sim: SimNode;
  afterEach(async () => {
    await sim?.close();
  });

  describe('drip', () => {
    it('sends the status and headers at once, then the real body one byte at a time', async () => {
      sim = await startNode({ timeScale: 0 });
      const normal = await run(sim.url, 'python', prints('drip\n'));
      sim.setFault({ kind: 'drip', interval_ms: 2, paths: 'execute' });
      const res = await request(`${sim.url}/api/v2/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ language: 'python', version: '*', files: [{ content: prints('drip\n') }] }),
      });
      // the status is in hand while the body has barely started
      expect(res.statusCode).toBe(200);
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(normal.text));
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      expect(chunks.length).toBeGreaterThan(1);
      expect(Buffer.concat(chunks).toString()).toBe(normal.text);
      expect(sim.stats().faulted).toBe(1);
      expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200); // paths: execute
    });

    it('drips any path, and stop() ends a drip in progress', async () => {
      sim = await startNode({ timeScale: 0 });
      sim.setFault({ kind: 'drip', interval_ms: 60_000 });
      const res = await request(`${sim.url}/`);
      expect(res.statusCode).toBe(200);
      const body = res.body.text().then(
        () => 'complete',
        () => 'cut',
      );
      await sim.stop();
      expect(await body).toBe('cut');
    });

    it('is refused without a sane interval_ms', async () => {
      sim = await startNode();
      expect(() => sim.setFault({ kind: 'drip', interval_ms: 0 })).toThrow(/interval_ms must be a number of ms from 1 to 3600000/);
      expect(() => sim.setFault({ kind: 'drip' } as never)).toThrow(/interval_ms/);
      expect((await post(`${sim.url}/__sim/fault`, { kind: 'drip', interval_ms: 'slow' })).status).toBe(400);
    });
  });

  describe('reflect', () => {
    it('answers 400 {"message"} holding every request header verbatim, Authorization included', async () => {
      sim = await startNode({ timeScale: 0 });
      sim.setFault({ kind: 'reflect' });
      const answer = await post(`${sim.url}/api/v2/execute`, { language: 'python', version: '*', files: [{ content: prints('1\n') }] }, {
        'content-type': 'application/json',
        Authorization: SECRET,
        'X-Node-Key': 'k-123',
      });
      expect(answer.status).toBe(400);
      const body = JSON.parse(answer.text) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['message']);
      expect(body.message).toMatch(new RegExp(`authorization: ${SECRET}`, 'i'));
      expect(body.message).toMatch(/x-node-key: k-123/i);
      expect(body.message).toContain('POST /api/v2/execute');
      expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(400); // every path by default
    });

    it('can be set over the admin API', async () => {
      sim = await startNode({ timeScale: 0 });
      expect((await post(`${sim.url}/__sim/fault`, { kind: 'reflect', paths: 'runtimes' })).status).toBe(200);
      const res = await request(`${sim.url}/api/v2/runtimes`, { headers: { authorization: SECRET } });
      expect(res.statusCode).toBe(400);
      expect(((await res.body.json()) as { message: string }).message).toContain(SECRET);
    });
  });

  describe('match: a fault for one poison request, not a broken node', () => {
    it('hits only requests whose body contains the text, every time; others are served', async () => {
      sim = await startNode({ timeScale: 0 });
      sim.setFault({ kind: 'status', status: 500, match: 'POISON' });
      for (let i = 0; i < 3; i++) {
        const poisoned = await run(sim.url, 'python', prints('POISON\n'));
        expect({ status: poisoned.status, text: poisoned.text }).toEqual({ status: 500, text: '' });
        expect((await run(sim.url, 'python', prints(`${i}\n`))).json().run.stdout).toBe(`${i}\n`);
      }
      expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200); // an empty body does not match
      expect(sim.stats().faulted).toBe(3);
    });

    it('works with result-stage faults, and count only counts matching requests', async () => {
      sim = await startNode({ timeScale: 0 });
      sim.setFault({ kind: 'xx', match: '"run_memory_limit":123456789', count: 1 });
      expect((await run(sim.url, 'python', prints('1\n'))).json().run.status).toBeNull();
      expect((await run(sim.url, 'python', prints('1\n'), { run_memory_limit: 123456789 })).json().run.status).toBe('XX');
      expect((await run(sim.url, 'python', prints('1\n'), { run_memory_limit: 123456789 })).json().run.status).toBeNull(); // count used up
    });

    it('is checked: a non-empty string', async () => {
      sim = await startNode();
      expect(() => sim.setFault({ kind: 'hang', match: '' })).toThrow(/match must be a non-empty string/);
      expect((await post(`${sim.url}/__sim/fault`, { kind: 'hang', match: 3 })).status).toBe(400);
    });
  });

  describe('file names that only look safe', () => {
    // Piston refuses any name whose path relative to the submission folder starts with `..`
    it.each(['..x', '...', '..\u2215x', '../x', 'a/../../x', '..'])('%j: HTTP 500 with an empty body, like recording err-path-escape', async (name) => {
      sim = await startNode({ timeScale: 0 });
      const answer = await post(`${sim.url}/api/v2/execute`, { language: 'python', version: '*', files: [{ name: 'main.py', content: prints('1\n') }, { name, content: 'x' }] });
      expect({ status: answer.status, text: answer.text }).toEqual({ status: 500, text: '' });
      const single = await post(`${sim.url}/api/v2/execute`, { language: 'python', version: '*', files: [{ name, content: prints('1\n') }] });
      expect(single.status).toBe(500);
    });

    it.each(['x..', 'a/..b', '.x', './main.py', 'a/../main.py'])('%j stays inside the folder and runs', async (name) => {
      sim = await startNode({ timeScale: 0 });
      const answer = await post(`${sim.url}/api/v2/execute`, { language: 'python', version: '*', files: [{ name, content: prints('1\n') }] });
      expect(answer.status).toBe(200);
      expect(answer.json().run.stdout).toBe('1\n');
    });
  });

  describe('a huge runtime list', () => {
    it('serves 40,000 runtimes set in process or over the admin API', async () => {
      const many: PistonRuntime[] = Array.from({ length: 40_000 }, (_, i) => ({ language: `lang${i}`, version: `1.${i % 100}.0`, aliases: [`l${i}`] }));
      sim = await startNode({ runtimes: many, timeScale: 0 });
      const listing = JSON.parse((await get(`${sim.url}/api/v2/runtimes`)).text) as PistonRuntime[];
      expect(listing).toHaveLength(40_000);
      expect((await run(sim.url, 'lang39999', 'x')).status).toBe(200);
      expect((await run(sim.url, 'python', prints('1\n'))).text).toBe('{"message":"python-* runtime is unknown"}');

      sim.setRuntimes('default');
      expect((await post(`${sim.url}/__sim/runtimes`, many.slice(0, 20_000))).status).toBe(200);
      expect(JSON.parse((await get(`${sim.url}/api/v2/runtimes`)).text)).toHaveLength(20_000);
    });
  });
});
