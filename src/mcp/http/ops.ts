/**
 * The operations endpoints, answered the same way wherever they are served (the MCP port, and the
 * --metrics listener): GET /healthz (the process lives), GET /readyz (a node can serve), GET
 * /metrics (Prometheus text, when there are metrics to show).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../../util/http.js';

export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

export interface OpsEndpoints {
  /** The first health round has found a node that can serve. */
  ready(): boolean;
  /** A shutdown has begun: not ready, whatever the nodes. */
  draining?(): boolean;
  /** More to say in /readyz's answer (the shared store's state). */
  readyDetail?(): Record<string, unknown>;
  metrics?: MetricsEndpoint;
}

export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

/** Answers `path` if it is an operations endpoint; false when it is not one (the caller routes it). */
export async function answerOps(req: IncomingMessage, res: ServerResponse, path: string, ops: OpsEndpoints): Promise<boolean> {
  if (!(OPS_PATHS as readonly string[]).includes(path) || (path === '/metrics' && !ops.metrics)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: `${path} answers GET only` }, { allow: 'GET' });
    return true;
  }
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
  } else if (path === '/readyz') {
    const draining = ops.draining?.() ?? false;
    const ready = !draining && ops.ready();
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : draining ? 'shutting down' : 'no node can serve', ...ops.readyDetail?.() });
  } else {
    try {
      const text = await ops.metrics!.render();
      res.writeHead(200, { 'content-type': ops.metrics!.contentType });
      res.end(text);
    } catch {
      sendJson(res, 500, { error: 'metrics could not be rendered' });
    }
  }
  return true;
}
