/**
 * The /__sim/ admin API of a simulated node: stats, faults, latency, runtimes and restarts over
 * HTTP, for nodes run in another process (`pistom sim`). See docs/sim.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runtimeListProblem, type PistonRuntime } from '../../piston/types.js';
import { JSON_TYPE } from './fault-answers.js';
import { checkFault, type SimFault } from './faults.js';
import type { RuntimeSelection } from './runtimes.js';

const MAX_ADMIN_BODY_BYTES = 4 * 1024 * 1024;

/** What the admin API can see and change on a node. */
export interface AdminTarget {
  state(): unknown;
  currentFault(): SimFault | null;
  setFault(fault: SimFault | null): void;
  setLatency(ms: number): void;
  setRuntimes(runtimes: RuntimeSelection): void;
  runtimes(): readonly PistonRuntime[];
  /** Crash once `res` has been sent, listen again after downMs. */
  restartAfter(res: ServerResponse, downMs: number): void;
}

export function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, target: AdminTarget): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_ADMIN_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_ADMIN_BODY_BYTES) return reply(res, 413, { error: 'body too large' });
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        return reply(res, 400, { error: 'body must be JSON' });
      }
    }
    try {
      route(req.method ?? 'GET', path, body, res, target);
    } catch (error) {
      reply(res, 400, { error: (error as Error).message });
    }
  });
}

function route(method: string, path: string, body: unknown, res: ServerResponse, target: AdminTarget): void {
  if (path === '/__sim/stats' && method === 'GET') return reply(res, 200, target.state());
  if (path === '/__sim/fault' && method === 'GET') return reply(res, 200, { fault: target.currentFault() });
  if (path === '/__sim/fault' && (method === 'POST' || method === 'DELETE')) {
    const fault = method === 'DELETE' || body === undefined || body === null ? null : body;
    if (fault !== null) {
      const problem = checkFault(fault);
      if (problem) return reply(res, 400, { error: problem });
    }
    target.setFault(fault as SimFault | null);
    return reply(res, 200, target.state());
  }
  if (path === '/__sim/latency' && method === 'POST') {
    const ms = typeof body === 'number' ? body : (body as { ms?: unknown } | undefined)?.ms;
    if (typeof ms !== 'number' || !(ms >= 0)) return reply(res, 400, { error: 'expected {"ms": <non-negative number>}' });
    target.setLatency(ms);
    return reply(res, 200, target.state());
  }
  if (path === '/__sim/runtimes' && method === 'POST') {
    const value = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { runtimes?: unknown }).runtimes : body;
    const problem = value === 'default' || value === 'all' ? undefined : runtimeListProblem(value, Number.POSITIVE_INFINITY);
    if (problem) return reply(res, 400, { error: `expected "default", "all" or an array of {language, version, aliases[], runtime?}: ${problem}` });
    target.setRuntimes(value as RuntimeSelection);
    return reply(res, 200, { runtimes: target.runtimes() });
  }
  if (path === '/__sim/restart' && method === 'POST') {
    const downMs = (body as { downMs?: unknown } | undefined)?.downMs ?? 0;
    if (typeof downMs !== 'number' || !(downMs >= 0)) return reply(res, 400, { error: 'downMs must be a non-negative number' });
    reply(res, 200, { restarting: true, downMs });
    target.restartAfter(res, downMs);
    return;
  }
  reply(res, 404, { error: `no admin route ${method} ${path}` });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
