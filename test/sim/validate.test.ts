/** Piston's validation and HTTP edges beyond the recordings, checked against Piston's source order. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { SimNode } from '../../src/sim/index.js';
import { get, post, prints, startNode } from './support.js';

let sim: SimNode;
beforeAll(async () => {
  sim = await startNode({ timeScale: 0, caps: { run_memory_limit: 1_000_000_000 } });
});
afterAll(async () => {
  await sim.close();
});

const execute = (body: unknown) => post(`${sim.url}/api/v2/execute`, body);
const py = { language: 'python', version: '3.x', files: [{ content: prints('1\n') }] };

describe('sim validation', () => {
  it('checks limits memory first, then timeouts, then cpu times; compile before run', async () => {
    const both = await execute({ ...py, run_cpu_time: 'x', run_memory_limit: 'y' });
    expect(both.text).toBe('{"message":"If specified, run_memory_limit must be a number"}');
    const timeouts = await execute({ ...py, run_cpu_time: 99999, compile_timeout: 99999 });
    expect(timeouts.text).toBe('{"message":"compile_timeout cannot exceed the configured limit of 10000"}');
    const memory = await execute({ ...py, run_memory_limit: 2_000_000_000 });
    expect(memory.text).toBe('{"message":"run_memory_limit cannot exceed the configured limit of 1000000000"}');
  });

  it('a limit of 0 skips the check; a non-string stdin is {}; null files are {}', async () => {
    expect((await execute({ ...py, run_timeout: 0, compile_timeout: 0 })).status).toBe(200);
    const stdin = await execute({ ...py, stdin: { a: 1 } });
    expect([stdin.status, stdin.text]).toEqual([400, '{}']);
    const nullFile = await execute({ ...py, files: [null] });
    expect([nullFile.status, nullFile.text]).toEqual([400, '{}']);
  });

  it('args that cannot be spread, or a file escaping the folder, are 500 with an empty body', async () => {
    for (const body of [{ ...py, args: 5 }, { ...py, files: [{ content: 'x' }, { name: '../../x', content: 'y' }] }]) {
      const answer = await execute(body);
      expect([answer.status, answer.text]).toEqual([500, '']);
    }
  });

  it('the first utf8 file is the one that runs', async () => {
    const answer = await execute({ language: 'python', version: '*', files: [{ name: 'd.bin', content: 'AAE=', encoding: 'base64' }, { name: 'm.py', content: prints('m.py ran\n') }] });
    expect(answer.json().run.stdout).toBe('m.py ran\n');
  });

  it('routes are case-insensitive and ignore a trailing slash, like express', async () => {
    expect((await get(`${sim.url}/API/V2/RUNTIMES/`)).status).toBe(200);
    expect((await post(`${sim.url}/api/v2/execute/`, py)).status).toBe(200);
  });

  it('content type: 415 on non-GET under /api/v2 only; GET answers without a body check', async () => {
    const wrong = await post(`${sim.url}/api/v2/execute`, JSON.stringify(py), { 'content-type': 'text/plain' });
    expect([wrong.status, wrong.text]).toEqual([415, '{"message":"requests must be of type application/json"}']);
    const elsewhere = await post(`${sim.url}/nope`, 'x', { 'content-type': 'text/plain' });
    expect([elsewhere.status, elsewhere.text]).toEqual([404, '{"message":"Not Found"}']);
    const charset = await post(`${sim.url}/api/v2/execute`, JSON.stringify(py), { 'content-type': 'application/json; charset=utf-8' });
    expect(charset.status).toBe(200);
  });

  it('body-parser errors: strict mode, Node 20 messages, too large by content-length or by chunks', async () => {
    const strict = await post(`${sim.url}/api/v2/execute`, '"just a string"');
    expect(strict.status).toBe(400);
    expect(JSON.parse(strict.text).stack).toMatch(/^SyntaxError: Unexpected token '"', ""just a string"" is not valid JSON\n {4}at JSON\.parse/);
    const trailing = await post(`${sim.url}/api/v2/execute`, '{"a":1}x');
    expect(JSON.parse(trailing.text).stack).toMatch(/^SyntaxError: Unexpected non-whitespace character after JSON at position 7\n/);
    const empty = await post(`${sim.url}/api/v2/execute`, '');
    expect(empty.text).toBe('{"message":"language is required as a string"}');
    const big = JSON.stringify({ ...py, files: [{ content: 'x'.repeat(200_000) }] });
    // no content-length: the limit is enforced while the chunks arrive
    const chunked = await request(`${sim.url}/api/v2/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Readable.from([big.slice(0, 50_000), big.slice(50_000)]) });
    const text = await chunked.body.text();
    expect(chunked.statusCode).toBe(400);
    expect(JSON.parse(text).stack).toMatch(/^PayloadTooLargeError: request entity too large\n/);
  });

  it('HEAD, OPTIONS and the packages listing behave like express', async () => {
    const head = await request(`${sim.url}/`, { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(await head.body.text()).toBe('');
    const options = await request(`${sim.url}/api/v2/execute`, { method: 'OPTIONS' });
    expect([options.statusCode, await options.body.text()]).toEqual([200, 'POST']);
    const packages = JSON.parse((await get(`${sim.url}/api/v2/packages`)).text) as unknown[];
    expect(packages).toContainEqual({ language: 'python', language_version: '3.11.2', installed: true });
  });
});
