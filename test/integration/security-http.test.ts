/**
 * The HTTP front against callers who do not belong: bearer tokens, Host and Origin checks, the
 * refusal to serve a public address without auth, size and depth bounds, and the per-client rate
 * limit. Real HTTP on loopback, raw requests (so any header can be sent).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyOverrides, parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { createPistom, type Pistom } from '../../src/app.js';
import { HttpStartError, PistomHttpServer } from '../../src/mcp/http/server.js';
import { isLoopbackHost } from '../../src/mcp/http/guards.js';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { MCP_HEADERS, rawRequest, rpc } from '../helpers/raw-http.js';
import { CLI } from '../helpers/pistom.js';
import { spawnSync } from 'node:child_process';

const TOKEN_A = 'token-aaaaaaaaaaaaaaaaaaaaaaaa';
const TOKEN_B = 'token-bbbbbbbbbbbbbbbbbbbbbbbb';

describe('HTTP security', () => {
  let sim: SimNode | undefined;
  const open: Array<{ http: PistomHttpServer; pistom: Pistom }> = [];

  async function serve(http: Partial<ConfigInput['http']> & object = {}, env: Record<string, string> = {}): Promise<string> {
    sim ??= await startSimNode();
    const raw = applyOverrides({ nodes: [{ url: sim.url }], health: { interval_ms: 60_000 }, http: { port: 0, ...http } }, {}, env);
    const config = parseConfig(raw, 'test');
    const pistom = createPistom(config);
    const server = new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready });
    open.push({ http: server, pistom });
    return `${await server.listen()}/mcp`;
  }

  afterEach(async () => {
    for (const { http, pistom } of open.splice(0)) {
      await http.close();
      await pistom.close();
    }
    await sim?.close();
    sim = undefined;
  });

  const list = (url: string, headers: Record<string, string> = {}) => rawRequest(url, { headers: { ...MCP_HEADERS, ...headers }, body: rpc('tools/list') });

  it('accepts any of several tokens from config and PISTOM_AUTH_TOKENS, and answers 401 with WWW-Authenticate otherwise', async () => {
    const fromConfig = await serve({ auth_tokens: [TOKEN_A] });
    expect((await list(fromConfig, { authorization: `Bearer ${TOKEN_A}` })).status).toBe(200);
    const fromEnv = await serve({ auth_tokens: ['ignored-when-env-is-set-xxxx'] }, { PISTOM_AUTH_TOKENS: `${TOKEN_A}, ${TOKEN_B}` });
    expect((await list(fromEnv, { authorization: `Bearer ${TOKEN_A}` })).status).toBe(200);
    expect((await list(fromEnv, { authorization: `bearer ${TOKEN_B}` })).status).toBe(200);
    for (const authorization of [undefined, `Bearer ${TOKEN_A}x`, `Bearer ${TOKEN_A.slice(0, -1)}`, `Basic ${TOKEN_A}`, TOKEN_A, 'Bearer ', 'Bearer ignored-when-env-is-set-xxxx']) {
      const res = await list(fromEnv, authorization === undefined ? {} : { authorization });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="pistom"');
      expect(res.json().error.message).toMatch(/bearer token/);
      expect(res.text).not.toContain(TOKEN_A);
    }
  });

  it('refuses to start on a non-loopback address without auth unless told explicitly', async () => {
    sim = await startSimNode();
    const config = parseConfig({ nodes: [{ url: sim.url }], http: { host: '0.0.0.0', port: 0 } }, 'test');
    const pistom = createPistom(config, { healthChecks: false });
    try {
      expect(() => new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready })).toThrow(HttpStartError);
      expect(() => new PistomHttpServer({ http: { ...config.http, host: '127.evil.example' }, createMcpServer: pistom.createMcpServer, ready: pistom.ready })).toThrow(/without authentication/);
      expect(() => new PistomHttpServer({ http: { ...config.http, allow_unauthenticated_public: true }, createMcpServer: pistom.createMcpServer, ready: pistom.ready })).not.toThrow();
      expect(() => new PistomHttpServer({ http: { ...config.http, auth_tokens: [TOKEN_A] }, createMcpServer: pistom.createMcpServer, ready: pistom.ready })).not.toThrow();
    } finally {
      await pistom.close();
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '127.evil.example', '10.0.0.1', 'example.com', '::']) expect(isLoopbackHost(host), host).toBe(false);
    const cli = spawnSync(process.execPath, [CLI, 'serve', '--backend', 'http://127.0.0.1:9', '--http', '0.0.0.0:0'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '' } });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/refusing to serve on 0\.0\.0\.0 without authentication.*--allow-public/);
  });

  it('checks Host and Origin against DNS rebinding: loopback names pass, allow-lists extend, the rest get 403', async () => {
    const url = await serve({ allowed_hosts: ['mcp.example.com:443'], allowed_origins: ['https://app.example.com/'] });
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST.:${port}`, `[::1]:${port}`, 'mcp.example.com', 'MCP.example.com:8443']) {
      expect((await list(url, { host })).status, host).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example`]) {
      const res = await list(url, { host });
      expect(res.status, host).toBe(403);
      expect(res.json().error.message).toMatch(/Host header .* not allowed; add it to http.allowed_hosts/);
    }
    for (const origin of [`http://localhost:${port}`, 'http://127.0.0.1:5173', 'http://[::1]', 'https://app.example.com', 'HTTPS://APP.EXAMPLE.COM']) {
      expect((await list(url, { origin })).status, origin).toBe(200);
    }
    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'https://app.example.com.evil.example', 'file://localhost', 'not a url']) {
      const res = await list(url, { origin });
      expect(res.status, origin).toBe(403);
      expect(res.json().error.message).toMatch(/Origin .* not allowed; add it to http.allowed_origins/);
    }
  });

  it('bounds the body size (413), the header size (431) and the JSON depth (400) with errors that say which', async () => {
    const url = await serve({ max_body_bytes: 4096 });
    const big = await rawRequest(url, { headers: MCP_HEADERS, body: rpc('tools/list', { pad: 'x'.repeat(5000) }) });
    expect(big.status).toBe(413);
    expect(big.json().error.message).toMatch(/request body over 4096 bytes \(http.max_body_bytes\)/);
    const headers = await rawRequest(url, { headers: { ...MCP_HEADERS, 'x-pad': 'y'.repeat(20 * 1024) }, body: rpc('tools/list') });
    expect(headers.status).toBe(431);
    const deep = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${'['.repeat(100)}${']'.repeat(100)}}}`;
    const tooDeep = await rawRequest(url, { headers: MCP_HEADERS, body: deep });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.json().id, 'the refusal names the request').toBe(1);
    expect(tooDeep.json().error).toMatchObject({ code: -32600, message: expect.stringMatching(/JSON nested deeper than 64 levels/) });
    const brackets = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: { note: '['.repeat(500) } } });
    expect((await rawRequest(url, { headers: MCP_HEADERS, body: brackets })).status, 'brackets inside strings do not count').toBe(200);
    expect((await list(url)).status, 'still serving').toBe(200);
  });

  it('limits each client with a token bucket: 429 with Retry-After, separate buckets per token, no bypass by made-up headers', async () => {
    const open = await serve({ rate_limit: { per_second: 0.5, burst: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await list(open)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await list(open);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json().error.message).toMatch(/Too Many Requests: this client is limited to 0.5 requests per second \(bursts of 3\); retry in \d+ s/);
    expect((await list(open, { authorization: 'Bearer made-up-to-get-a-new-bucket' })).status, 'without auth the address is the client').toBe(429);

    const authed = await serve({ auth_tokens: [TOKEN_A, TOKEN_B], rate_limit: { per_second: 0.5, burst: 2 } });
    const asA = { authorization: `Bearer ${TOKEN_A}` };
    expect([(await list(authed, asA)).status, (await list(authed, asA)).status, (await list(authed, asA)).status]).toEqual([200, 200, 429]);
    expect((await list(authed, { authorization: `Bearer ${TOKEN_B}` })).status, 'another token has its own bucket').toBe(200);
  });
});
