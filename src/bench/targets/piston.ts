/** Piston nodes addressed directly over pooled undici HTTP; requests go round-robin across nodes. */
import { Pool } from 'undici';
import { apiBasePath } from '../../piston/client.js';
import { classifyExecuteAnswer } from '../../piston/outcome.js';
import { PistonRuntimeList } from '../../piston/types.js';
import { outcomeOfAttempt, type Outcome } from '../outcome.js';
import { readCapped } from '../../util/http.js';
import { displayUrl } from '../../util/redact.js';
import { classifyThrown } from './errors.js';
import type { BenchRequest, RuntimeInfo, Target, TargetContext } from './target.js';

/** Piston caps output at a few KiB; anything much larger is a broken node, not a result. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

interface PistonNode {
  name: string;
  basePath: string;
  /** The execute URL without credentials, for messages. */
  executeUrl: string;
  pool: Pool;
}

export function createPistonTarget(urls: string[], context: TargetContext): Target {
  const headers = { ...context.headers, 'content-type': 'application/json' };
  const nodes: PistonNode[] = urls.map((text) => {
    const url = new URL(text);
    const pool = new Pool(url.origin, {
      connections: Math.max(1, context.maxConcurrent),
      pipelining: 1,
      connectTimeout: Math.min(10_000, context.timeoutMs),
      headersTimeout: context.timeoutMs + 1000,
      bodyTimeout: context.timeoutMs + 1000,
    });
    const basePath = apiBasePath(url);
    return { name: displayUrl(text), basePath, executeUrl: displayUrl(`${url.origin}${basePath}/execute`), pool };
  });
  let next = 0;

  async function fetchRuntimes(node: PistonNode, signal: AbortSignal): Promise<RuntimeInfo[]> {
    const response = await node.pool.request({
      method: 'GET',
      path: `${node.basePath}/runtimes`,
      headers: context.headers,
      signal,
    });
    const text = await readCapped(response.body, MAX_RESPONSE_BYTES);
    if (response.statusCode !== 200) {
      throw new Error(`${node.name}: GET ${node.basePath}/runtimes answered HTTP ${response.statusCode}`);
    }
    const parsed = PistonRuntimeList.safeParse(safeJson(text));
    if (!parsed.success) throw new Error(`${node.name}: GET ${node.basePath}/runtimes returned no runtime list`);
    return parsed.data.map(({ language, version, aliases }) => ({ language, version, aliases }));
  }

  async function executeOn(node: PistonNode, request: BenchRequest, signal: AbortSignal): Promise<Outcome> {
    const body = JSON.stringify({ ...request, version: request.version ?? '*' });
    try {
      const response = await node.pool.request({
        method: 'POST',
        path: `${node.basePath}/execute`,
        headers,
        body,
        signal,
      });
      const text = await readCapped(response.body, MAX_RESPONSE_BYTES);
      return outcomeOfAttempt(classifyExecuteAnswer(response.statusCode, text, { node: node.name, url: node.executeUrl, redact: (t) => t }));
    } catch (error) {
      return classifyThrown(error, signal, true);
    }
  }

  return {
    kind: 'piston',
    endpoints: nodes.map((n) => n.name),
    async connect() {},
    async runtimes(signal) {
      const lists = await Promise.all(nodes.map((node) => fetchRuntimes(node, signal)));
      const [first = [], ...rest] = lists;
      const key = (r: RuntimeInfo) => `${r.language}@${r.version}`;
      return first.filter((r) => rest.every((list) => list.some((other) => key(other) === key(r))));
    },
    async execute(request, signal) {
      const node = nodes[next++ % nodes.length]!;
      const outcome = await executeOn(node, request, signal);
      return { ...outcome, node: node.name };
    },
    async close() {
      await Promise.all(nodes.map((n) => n.pool.destroy().catch(() => undefined)));
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
