import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PistonClient } from '../../src/piston/client.js';
import { NodeFaultError, PistonRequestError } from '../../src/piston/errors.js';

const ORIGIN = 'http://piston.test:2000';
const OK = {
  language: 'python',
  version: '3.11.2',
  run: { stdout: '2\n', stderr: '', output: '2\n', code: 0, signal: null, message: null, status: null, cpu_time: 27, wall_time: 45, memory: 10624000 },
};
const BODY = { language: 'python', version: '3.11.2', files: [{ content: 'print(1+1)' }] };

describe('PistonClient on the wire (nock)', () => {
  let client: PistonClient;
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  afterEach(async () => {
    await client?.close();
    nock.cleanAll();
  });
  const make = (options: Partial<ConstructorParameters<typeof PistonClient>[0]> = {}) => (client = new PistonClient({ name: 'n1', url: ORIGIN, headers: { authorization: 'Bearer s3cret-node-key' }, ...options }));

  it('posts JSON to /api/v2/execute with the node headers and returns the parsed result', async () => {
    const scope = nock(ORIGIN, { reqheaders: { authorization: 'Bearer s3cret-node-key', 'content-type': 'application/json' } })
      .post('/api/v2/execute', BODY)
      .reply(200, OK);
    const result = await make().execute(BODY, { timeoutMs: 1000 });
    expect(result.run.stdout).toBe('2\n');
    expect(result.version).toBe('3.11.2');
    scope.done();
  });

  it('keeps a path prefix of the node URL (authorized public instances live under a prefix)', async () => {
    const scope = nock(ORIGIN).get('/api/v2/piston/api/v2/runtimes').reply(200, [{ language: 'python', version: '3.11.2', aliases: ['py'] }]);
    const list = await make({ url: `${ORIGIN}/api/v2/piston` }).runtimes({ timeoutMs: 1000 });
    expect(list).toEqual([{ language: 'python', version: '3.11.2', aliases: ['py'] }]);
    scope.done();
  });

  it('turns a 400 into a request error carrying Piston\'s message', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(400, { message: 'cobol-* runtime is unknown' });
    const error = await make().execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PistonRequestError);
    expect((error as PistonRequestError).message).toBe('cobol-* runtime is unknown');
    expect((error as PistonRequestError).isUnknownRuntime).toBe(true);
  });

  it.each([500, 502, 503, 429, 404])('treats HTTP %i as a node fault after send', async (status) => {
    nock(ORIGIN).post('/api/v2/execute').reply(status, { message: 'x' });
    const error = (await make().execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e)) as NodeFaultError;
    expect(error).toBeInstanceOf(NodeFaultError);
    expect(error).toMatchObject({ reason: 'status', sent: true, status });
  });

  it('treats garbage, truncated JSON and wrong shapes as node faults', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, 'not json at all').post('/api/v2/execute').reply(200, '{"run": {"stdout"').post('/api/v2/execute').reply(200, { hello: 'world' });
    make();
    for (let i = 0; i < 3; i++) {
      const error = (await client.execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e)) as NodeFaultError;
      expect(error).toBeInstanceOf(NodeFaultError);
      expect(error.reason).toBe('garbage');
    }
  });

  it('treats status XX as an internal node fault, not a program outcome', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, { ...OK, run: { ...OK.run, status: 'XX', message: 'internal error' } });
    const error = (await make().execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e)) as NodeFaultError;
    expect(error).toMatchObject({ reason: 'internal', sent: true });
  });

  it('returns program outcomes (RE, TO, OL) as results', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, { ...OK, run: { ...OK.run, status: 'TO', code: null, signal: 'SIGKILL', message: 'Time limit exceeded' } });
    const result = await make().execute(BODY, { timeoutMs: 1000 });
    expect(result.run.status).toBe('TO');
  });

  it('stops reading an answer over the size cap', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(200, { ...OK, run: { ...OK.run, stdout: 'x'.repeat(50_000) } });
    const error = (await make({ maxResponseBytes: 10_000 }).execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e)) as NodeFaultError;
    expect(error).toMatchObject({ reason: 'too_large', sent: true });
  });

  it('never puts node headers in error messages', async () => {
    nock(ORIGIN).post('/api/v2/execute').reply(503, 'down');
    const error = (await make().execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('s3cret-node-key');
    expect(JSON.stringify(error)).not.toContain('s3cret-node-key');
  });

  it('turns credentials in the node URL into Basic auth', async () => {
    const scope = nock(ORIGIN, { reqheaders: { authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}` } })
      .get('/api/v2/runtimes')
      .reply(200, []);
    await make({ url: 'http://user:p%40ss@piston.test:2000', headers: {} }).runtimes({ timeoutMs: 1000 });
    scope.done();
  });

  it('reads the Piston version from GET /', async () => {
    nock(ORIGIN).get('/').reply(200, { message: 'Piston v3.1.1' });
    expect(await make().version({ timeoutMs: 1000 })).toBe('Piston v3.1.1');
  });
});
