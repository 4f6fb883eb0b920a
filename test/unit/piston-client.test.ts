import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PistonClient } from '../../src/piston/client.js';
import type { AttemptOutcome, NodeFault } from '../../src/piston/outcome.js';
import { Redactor } from '../../src/util/redact.js';

const ORIGIN = 'http://piston.test:2000';
const SECRET = 'Bearer s3cret-node-key';
const OK = {
  language: 'python',
  version: '3.11.2',
  run: { stdout: '2\n', stderr: '', output: '2\n', code: 0, signal: null, message: null, status: null, cpu_time: 27, wall_time: 45, memory: 10624000 },
};
const BODY = JSON.stringify({ language: 'python', version: '3.11.2', files: [{ content: 'print(1+1)' }] });

function fault(outcome: AttemptOutcome): NodeFault {
  expect(outcome.class).toBe('node_fault');
  return outcome as NodeFault;
}

describe('PistonClient on the wire (nock)', () => {
  let client: PistonClient;
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  afterEach(async () => {
    await client?.close();
    nock.cleanAll();
  });
  const make = (options: Partial<ConstructorParameters<typeof PistonClient>[0]> = {}) =>
    (client = new PistonClient({ name: 'n1', url: ORIGIN, headers: { authorization: SECRET }, redactor: new Redactor([SECRET]), ...options }));

  it('posts JSON to /api/v2/execute with the node headers and returns the program outcome', async () => {
    const scope = nock(ORIGIN, { reqheaders: { authorization: SECRET, 'content-type': 'application/json' } })
      .post('/api/v2/execute', JSON.parse(BODY))
      .reply(200, OK);
    const outcome = await make().execute(BODY, { timeoutMs: 1000 });
    expect(outcome).toEqual({ class: 'program_outcome', result: OK });
    scope.done();
  });

  it('uses a URL with a path as the API base: the public API form has /runtimes and /execute right below it', async () => {
    const scope = nock(ORIGIN).get('/api/v2/piston/runtimes').reply(200, [{ language: 'python', version: '3.11.2', aliases: ['py'] }]).post('/api/v2/piston/execute').reply(200, OK);
    make({ url: `${ORIGIN}/api/v2/piston/` });
    expect(client.baseUrl).toBe(`${ORIGIN}/api/v2/piston`);
    expect(await client.runtimes({ timeoutMs: 1000 })).toEqual({ ok: true, runtimes: [{ language: 'python', version: '3.11.2', aliases: ['py'] }] });
    expect((await client.execute(BODY, { timeoutMs: 1000 })).class).toBe('program_outcome');
    scope.done();
  });

  it("uses Piston's own /api/v2 for a URL without a path", async () => {
    const scope = nock(ORIGIN).get('/api/v2/runtimes').reply(200, []);
    make({ url: `${ORIGIN}/` });
    expect(client.urlOf('/runtimes')).toBe(`${ORIGIN}/api/v2/runtimes`);
    await client.runtimes({ timeoutMs: 1000 });
    scope.done();
  });

  it("turns a 400 into a request error carrying Piston's message", async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(400, { message: 'cobol-* runtime is unknown' }).post('/api/v2/execute').reply(400, { message: 'run_timeout cannot exceed the configured limit of 3000' });
    make();
    expect(await client.execute(BODY, { timeoutMs: 1000 })).toEqual({ class: 'request_error', code: 'unknown_runtime', message: 'cobol-* runtime is unknown', status: 400 });
    expect(await client.execute(BODY, { timeoutMs: 1000 })).toMatchObject({ class: 'request_error', code: 'rejected_by_node' });
  });

  it("redacts the node's own secret when a node reflects it in its message", async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(400, { message: `bad request; headers were {"authorization":"${SECRET}"}` });
    const outcome = await make().execute(BODY, { timeoutMs: 1000 });
    expect(JSON.stringify(outcome)).not.toContain('s3cret-node-key');
    expect(outcome).toMatchObject({ class: 'request_error', message: expect.stringContaining('[redacted]') });
  });

  it.each([
    [500, 'status'],
    [502, 'status'],
    [429, 'overloaded'],
    [503, 'overloaded'],
  ])('treats HTTP %i as a node fault after send (%s)', async (status, reason) => {
    nock(ORIGIN).post('/api/v2/execute').reply(status, { message: 'x' });
    expect(fault(await make().execute(BODY, { timeoutMs: 1000 }))).toMatchObject({ reason, sent: true, status });
  });

  it.each([404, 405, 401, 403])('treats HTTP %i as a misconfigured node, naming the URL it requested', async (status) => {
    nock(ORIGIN).post('/api/v2/execute').reply(status, { message: 'Not Found' });
    const outcome = fault(await make().execute(BODY, { timeoutMs: 1000 }));
    expect(outcome).toMatchObject({ reason: 'misconfigured', status });
    expect(outcome.message).toContain(`${ORIGIN}/api/v2/execute`);
  });

  it('treats a runtime list that is JSON but not a list of runtimes as misconfigured, and a huge one as refused', async () => {
    const huge = Array.from({ length: 40_000 }, (_, i) => ({ language: `lang${i}`, version: '1.0.0', aliases: [] }));
    nock(ORIGIN).get('/api/v2/runtimes').reply(200, { hello: 'world' }).get('/api/v2/runtimes').reply(200, huge);
    make({ maxRuntimes: 1000, maxResponseBytes: 16 * 1024 * 1024 });
    expect(await client.runtimes({ timeoutMs: 1000 })).toMatchObject({ ok: false, fault: { reason: 'misconfigured' } });
    const refused = await client.runtimes({ timeoutMs: 1000 });
    expect(refused).toMatchObject({ ok: false, fault: { reason: 'misconfigured', message: expect.stringContaining('40000 runtimes, more than the 1000 allowed') } });
  });

  it('treats garbage, truncated JSON and wrong shapes as node faults', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, 'not json at all').post('/api/v2/execute').reply(200, '{"run": {"stdout"').post('/api/v2/execute').reply(200, { hello: 'world' });
    make();
    for (let i = 0; i < 3; i++) expect(fault(await client.execute(BODY, { timeoutMs: 1000 })).reason).toBe('garbage');
  });

  it("treats status XX as a sandbox fault with the node's message, not a program outcome", async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, { ...OK, run: { ...OK.run, status: 'XX', message: 'Cannot set /sys/fs/cgroup/memory/isolate/box-765/memory.limit_in_bytes to 3072' } });
    expect(fault(await make().execute(BODY, { timeoutMs: 1000 }))).toMatchObject({ reason: 'sandbox', sent: true, detail: expect.stringContaining('memory.limit_in_bytes') });
  });

  it('returns program outcomes (RE, TO, OL) as results', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, { ...OK, run: { ...OK.run, status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded' } });
    const outcome = await make().execute(BODY, { timeoutMs: 1000 });
    expect(outcome.class === 'program_outcome' && outcome.result.run.status).toBe('TO');
  });

  it('stops reading an answer over the size cap', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, { ...OK, run: { ...OK.run, stdout: 'x'.repeat(50_000) } });
    expect(fault(await make({ maxResponseBytes: 10_000 }).execute(BODY, { timeoutMs: 1000 }))).toMatchObject({ reason: 'too_large', sent: true });
  });

  it('never puts node headers in fault messages', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(502, `upstream said ${SECRET}`);
    const outcome = await make().execute(BODY, { timeoutMs: 1000 });
    expect(JSON.stringify(outcome)).not.toContain('s3cret-node-key');
  });

  it('turns credentials in the node URL into Basic auth', async () => {
    const scope = nock(ORIGIN, { reqheaders: { authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}` } })
      .get('/api/v2/runtimes')
      .reply(200, []);
    await make({ url: 'http://user:p%40ss@piston.test:2000', headers: {} }).runtimes({ timeoutMs: 1000 });
    expect(client.baseUrl).toBe(`${ORIGIN}/api/v2`);
    scope.done();
  });

  it('reads the Piston version from GET /', async () => {
    nock(ORIGIN).get('/').reply(200, { message: 'Piston v3.1.1' });
    expect(await make().version({ timeoutMs: 1000 })).toEqual({ ok: true, version: 'Piston v3.1.1' });
  });
});
