/** The runtime catalog: Piston's resolution rules, the 'all' catalog, and runtimes appearing and disappearing. */
import { describe, expect, it } from 'vitest';
import { RuntimeCatalog } from '../../src/sim/node/runtimes.js';
import { get, post, prints, run, startNode } from './support.js';

describe('sim runtimes', () => {
  it('resolves like Piston: exact case-sensitive language or alias, semver range, newest wins', () => {
    const all = new RuntimeCatalog('all');
    expect(all.runtimes).toHaveLength(125);
    expect(all.resolve('python', '*')?.version).toBe('3.12.0');
    expect(all.resolve('python', '3.9.x')?.version).toBe('3.9.4');
    expect(all.resolve('py', '^3.10.0')?.version).toBe('3.12.0');
    expect(all.resolve('python', '3.10.0-alpha.7')?.version).toBe('3.10.0-alpha.7');
    expect(all.resolve('Python', '*')).toBeUndefined();
    expect(all.resolve('python', 'latest')).toBeUndefined();
    expect(all.resolve('js', '*')?.version).toBe('20.11.1'); // deno versions have no 'js' alias
    expect(all.resolve('javascript', '<2')?.runtime).toBe('deno');
    expect(all.resolve('rs', '1.6x')).toBeUndefined();
  });

  it('setRuntimes: a runtime disappearing makes requests for it unknown, and GET /api/v2/runtimes follows', async () => {
    const sim = await startNode({ timeScale: 0 });
    try {
      expect((await run(sim.url, 'python', prints('1\n'))).status).toBe(200);
      sim.setRuntimes([{ language: 'c', version: '12.2.0', aliases: ['gcc'], runtime: 'gcc' }]);
      const gone = await run(sim.url, 'python', prints('1\n'));
      expect(gone.status).toBe(400);
      expect(gone.text).toBe('{"message":"python-* runtime is unknown"}');
      expect(JSON.parse((await get(`${sim.url}/api/v2/runtimes`)).text)).toEqual([{ language: 'c', version: '12.2.0', aliases: ['gcc'], runtime: 'gcc' }]);
      sim.setRuntimes('all');
      const answer = await run(sim.url, 'ruby', prints('hi\n'));
      expect(answer.json()).toMatchObject({ language: 'ruby', version: '3.0.1', run: { stdout: 'hi\n', code: 0 } });
      sim.setRuntimes('default');
      expect(JSON.parse((await get(`${sim.url}/api/v2/runtimes`)).text)).toHaveLength(4);
    } finally {
      await sim.close();
    }
  });

  it('POST /__sim/runtimes takes "default", "all" or a list, and rejects anything else', async () => {
    const sim = await startNode({ timeScale: 0 });
    try {
      expect((await post(`${sim.url}/__sim/runtimes`, JSON.stringify('all'))).status).toBe(200);
      expect(JSON.parse((await get(`${sim.url}/api/v2/runtimes`)).text)).toHaveLength(125);
      expect((await post(`${sim.url}/__sim/runtimes`, { runtimes: [{ language: 'lua', version: '5.4.4', aliases: [] }] })).status).toBe(200);
      expect((await run(sim.url, 'lua', prints('moon\n'))).json().run.stdout).toBe('moon\n');
      const bad = await post(`${sim.url}/__sim/runtimes`, [{ language: 'lua' }]);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text).error).toMatch(/^expected "default", "all" or an array of \{language, version, aliases\[\], runtime\?\}: 0\.version: /);
    } finally {
      await sim.close();
    }
  });
});
