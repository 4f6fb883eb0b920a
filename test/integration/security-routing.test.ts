/**
 * Clients never choose where requests go: whatever the arguments (path-like languages, versions
 * and file names, URLs anywhere), pistom only talks to the configured node, only on /,
 * /api/v2/runtimes and /api/v2/execute, never /api/v2/packages. A recording proxy in front of a
 * simulated node sees every request; a canary server named in the arguments must see none.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import { connectCounting, CrashWatch, type CountingClient } from '../chaos/support/harness.js';

interface Seen {
  method: string;
  path: string;
  host: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Records every request, then forwards it to the simulated node. */
function recordingProxy(target: string, seen: Seen[]): Server {
  return createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', host: req.headers.host ?? '' });
    const upstream = request(`${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

const figures = new FigureRecorder('security-routing');
let sim: SimNode;
let proxy: Server;
let canary: Server;
let proxyUrl: string;
let canaryUrl: string;
let app: InProcess;
let client: CountingClient;
const seen: Seen[] = [];
const canaryHits: string[] = [];
const watch = new CrashWatch();

beforeAll(async () => {
  watch.install();
  sim = await startSimNode({ runtimes: 'all' });
  proxy = recordingProxy(sim.url, seen);
  proxyUrl = await listen(proxy);
  canary = createServer((req, res) => {
    canaryHits.push(`${req.method} ${req.url}`);
    res.end('{}');
  });
  canaryUrl = await listen(canary);
  app = await startInProcess({ nodes: [{ name: 'only', url: proxyUrl }], health: { interval_ms: 60_000 } });
  client = await connectCounting(app.url);
});

afterAll(async () => {
  figures.write();
  await client.close();
  await app.close();
  await new Promise((resolve) => proxy.close(resolve));
  await new Promise((resolve) => canary.close(resolve));
  proxy.closeAllConnections();
  await sim.close();
  watch.uninstall();
});

it('sends nothing to /api/v2/packages or any other host, whatever the arguments say', async () => {
  const hostile = () =>
    fc.oneof(
      fc.constantFrom(
        '../packages', '../../api/v2/packages', '/api/v2/packages', 'packages', 'api/v2/packages', '%2e%2e/packages', 'python/../../packages',
        'python?x=/api/v2/packages', 'python#/../packages', 'python\r\nGET /api/v2/packages HTTP/1.1', `${canaryUrl}/api/v2/packages`, `//127.0.0.1:${new URL(canaryUrl).port}/x`,
        'python', 'py', 'c++', '*', 'latest', '3.x', '..', '.', '', 'file:///etc/passwd', 'http://169.254.169.254/latest/meta-data',
      ),
      fc.string({ maxLength: 40 }),
      fc.webUrl().map((url) => url.replace(/^https?:\/\/[^/]+/, canaryUrl)),
    );
  const args = fc.record(
    {
      language: fc.oneof({ arbitrary: fc.constantFrom('python', 'c', 'javascript'), weight: 3 }, { arbitrary: hostile(), weight: 1 }),
      version: fc.oneof({ arbitrary: fc.constant('*'), weight: 2 }, { arbitrary: hostile(), weight: 1 }),
      code: fc.oneof(hostile(), fc.constant(`import urllib.request; urllib.request.urlopen("${canaryUrl}/api/v2/packages")`)),
      files: fc.array(fc.record({ name: hostile(), content: hostile() }, { requiredKeys: ['content'] }), { minLength: 1, maxLength: 3 }),
      args: fc.array(hostile(), { maxLength: 3 }),
      stdin: hostile(),
      url: fc.constant(`${canaryUrl}/api/v2/packages`),
      node: fc.constant(canaryUrl),
    },
    { requiredKeys: ['language'] },
  ).map((input) => {
    // Mostly well-formed calls (one of code or files), so that many reach the node.
    const { url, node, ...rest } = input;
    const pick = (cases + 1) % 5;
    if (pick === 0) return input;
    if (pick % 2 === 0) delete rest.files;
    else delete rest.code;
    void url;
    void node;
    return rest;
  }
  );
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(args, async (input) => {
      cases++;
      const result = await client.call(input);
      expect(result.content.length).toBeGreaterThan(0);
    }),
    { numRuns: 150, seed: 20260401 },
  );
  for (const uri of [`${canaryUrl}/api/v2/packages`, 'pistom://cluster/status/../../packages', 'file:///api/v2/packages']) {
    cases++;
    await expect(client.call({ uri }, 'list_runtimes')).resolves.toBeDefined();
  }
  for (const language of ['../packages', `${canaryUrl}/api/v2/packages`]) {
    cases++;
    await client.call({ code: `# ${language}` }, 'run_python_code');
  }
  const allowed = new Set(['GET /', 'GET /api/v2/runtimes', 'POST /api/v2/execute']);
  const offending = seen.filter((s) => !allowed.has(`${s.method} ${s.path}`) || s.host !== new URL(proxyUrl).host);
  const tally = client.tally();
  figures.row({ class: 'hostile routing input (paths, URLs in arguments)', tried: cases, lost: tally.lost, crashed: watch.events.length, note: `${seen.length} requests reached the node, ${offending.length} outside /, /api/v2/runtimes, /api/v2/execute; canary hits ${canaryHits.length}` });
  expect(seen.some((s) => s.path === '/api/v2/execute'), 'some calls did reach the node').toBe(true);
  expect(offending).toEqual([]);
  expect(canaryHits).toEqual([]);
  expect(tally.lost).toBe(0);
  expect(watch.events).toEqual([]);
});
