/**
 * The HTTP front: Streamable HTTP at /mcp for both protocol eras, GET /healthz (the process
 * lives), GET /readyz (a node can serve), GET /metrics when enabled.
 *
 * Each POST to /mcp is classified by the SDK's own classifier: a request that carries the
 * 2026-07-28 `_meta` envelope goes to the modern server, anything else to the 2025 one (stateless
 * by default, sessions with `--stateful`). Both stateless paths run one long-lived server behind a
 * multiplexing transport (mux-transport.ts). Guards (Host, Origin, bearer token), the rate limit
 * and the body bounds apply to /mcp before any of that.
 *
 * Bounds, each in one place: connections (count, per address, idle) in connections.ts; the
 * caller's key in guards.ts; one rate-limit token per message here (a batch pays for each of its
 * calls, and is capped at http.max_batch); answer bytes in stateless.ts; sessions per client in
 * sessions.ts; the queue share per client in router/admission.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { classifyInboundRequest, type AuthInfo, type McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { LEGACY_VERSIONS, MODERN_VERSIONS, SUPPORTED_VERSIONS, RPC, type Era } from '../protocol.js';
import { BodyTooLargeError, closeServer, headerValue, listen, readCapped, sendJson, urlOf } from '../../util/http.js';
import { answerOps, type MetricsEndpoint, type OpsEndpoints } from './ops.js';

export type { MetricsEndpoint } from './ops.js';
import { RequestGuard, refusePublicBindWithoutAuth } from './guards.js';

export { HttpStartError } from './guards.js';
import { jsonDepthOver, requestIdOf } from './json-depth.js';
import { ClientRateLimiter, type RateDecision, type RateLimiter } from './rate-limit.js';
import { ConnectionGate, fdBudget, openFileLimit } from './connections.js';
import { callerAuthInfo } from '../caller.js';
import { partsOf } from '../server.js';
import { FastToolCalls } from './fast-call.js';
import { MultiplexTransport } from './mux-transport.js';
import { idOf, sendRpcError, type JsonRpcId } from './respond.js';
import { asJsonRpcMessage, NOT_A_JSON_RPC_MESSAGE } from './jsonrpc.js';
import { SessionManager } from './sessions.js';
import { standardHeaderProblem } from './standard-headers.js';
import { handleStatelessPost, type AnswerBounds } from './stateless.js';

export interface HttpServerOptions {
  http: Config['http'];
  /** A server for one era; the front keeps one per era (and one per session when stateful). */
  createMcpServer: (era: Era) => McpServer;
  /** True when at least one node can serve. */
  ready: () => boolean;
  /** Served at /metrics on this port, when given. */
  metrics?: MetricsEndpoint;
  logger?: Logger;
  /** File descriptors the node connection pools may hold (nodes x client.connections): kept from clients. */
  nodeConnections?: number;
  /** A rate limiter to use instead of the per-process one built from http.rate_limit (a shared one). */
  rateLimiter?: RateLimiter;
  /** More to say in /readyz's answer (the shared store's state). */
  readyDetail?: () => Record<string, unknown>;
}


interface Leg {
  server: McpServer;
  transport: MultiplexTransport;
  /** Plain tools/call requests, answered without the SDK's per-message work (absent for servers not made by createMcpServer). */
  fast?: FastToolCalls;
}

export class PistomHttpServer {
  private readonly server: Server;
  private readonly guard: RequestGuard;
  private readonly rateLimiter: RateLimiter | undefined;
  private readonly logger: Logger;
  private readonly connections: ConnectionGate;
  private readonly bounds: AnswerBounds;
  /** /healthz, /readyz and /metrics, answered as on the --metrics listener. */
  private readonly ops: OpsEndpoints;
  private legs: Record<Era, Leg> | undefined;
  private sessions: SessionManager | undefined;
  private draining = false;

  constructor(private readonly options: HttpServerOptions) {
    this.ops = { ready: options.ready, draining: () => this.draining, readyDetail: options.readyDetail, metrics: options.metrics };
    const http = options.http;
    this.logger = options.logger ?? silentLogger();
    refusePublicBindWithoutAuth(http);
    this.guard = new RequestGuard({ allowedHosts: http.allowed_hosts, allowedOrigins: http.allowed_origins, tokens: http.auth_tokens, bindHost: http.host });
    this.rateLimiter = options.rateLimiter ?? (http.rate_limit ? new ClientRateLimiter({ perSecond: http.rate_limit.per_second, burst: http.rate_limit.burst }) : undefined);
    this.bounds = { maxAnswerBytes: http.max_answer_bytes, unread: { held: 0, max: http.max_unread_answer_bytes }, logger: this.logger };
    const idle = http.idle_timeout_ms;
    this.server = createServer(
      // Headers must come within the idle timeout; the checks run every 2 s (Node's default, 30 s, let slow clients hold sockets for a minute).
      { maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: Math.min(30_000, Math.max(idle, 1000)), keepAliveTimeout: Math.min(5_000, idle), connectionsCheckingInterval: 2_000 },
      (req, res) => {
        this.route(req, res).catch((error: unknown) => {
          this.logger.error({ err: error }, 'HTTP handler failed');
          if (!res.headersSent) sendRpcError(res, 500, RPC.serverError, 'internal error in pistom');
          else res.end();
        });
      },
    );
    const budget = fdBudget(http.max_connections, options.nodeConnections ?? 0, openFileLimit());
    if (budget.lowered !== undefined) this.logger.warn({ configured: budget.lowered, used: budget.maxConnections, why: budget.reason }, 'http.max_connections lowered so that node calls keep their file descriptors');
    this.connections = new ConnectionGate(this.server, { maxConnections: budget.maxConnections, maxPerAddress: http.max_connections_per_address, idleTimeoutMs: idle }, this.logger);
    // No 'clientError' listener on purpose: Node's own answers malformed requests with 400, oversized
    // headers with 431 and slow ones with 408, and never writes into a response already started.
    if (http.stateful) {
      this.sessions = new SessionManager({ createServer: () => options.createMcpServer('legacy'), idleMs: http.session_idle_ms, maxSessions: http.max_sessions, maxPerClient: http.max_sessions_per_client });
    }
  }

  async listen(): Promise<string> {
    const leg = async (era: Era): Promise<Leg> => {
      const transport = new MultiplexTransport(era);
      const server = this.options.createMcpServer(era);
      server.server.onerror = (error) => this.logger.debug({ err: error, era }, 'MCP protocol error');
      const parts = partsOf(server);
      if (parts) {
        parts.ledger.deferUntilDelivered();
        transport.delivery = parts.ledger;
      }
      await server.connect(transport);
      return { server, transport, ...(parts && this.options.http.fast_path ? { fast: new FastToolCalls(parts, era) } : {}) };
    };
    this.legs = { modern: await leg('modern'), legacy: await leg('legacy') };
    return listen(this.server, this.options.http.port, this.options.http.host);
  }

  get url(): string {
    return urlOf(this.server);
  }

  /** Bytes of answers written for clients that have not read them yet (http.max_unread_answer_bytes). */
  get unreadAnswerBytes(): number {
    return this.bounds.unread.held;
  }

  /** Client connections open now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** tools/call requests answered on the fast path (fast-call.ts) since start. */
  get fastCalls(): number {
    return (this.legs?.modern.fast?.taken ?? 0) + (this.legs?.legacy.fast?.taken ?? 0);
  }

  /** Calls still being answered over stateless HTTP. */
  get pending(): number {
    return (this.legs?.modern.transport.pending ?? 0) + (this.legs?.legacy.transport.pending ?? 0);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (await answerOps(req, res, path, this.ops)) return;
    if (path === '/mcp') return this.handleMcp(req, res);
    sendJson(res, 404, { error: `no route ${req.method} ${path}; MCP is served at /mcp, health at /healthz and /readyz` });
  }

  private async handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = this.guard.check(req);
    if (!verdict.ok) {
      req.resume();
      return sendRpcError(res, verdict.failure.status, RPC.serverError, verdict.failure.message, verdict.failure.headers);
    }
    const { clientKey } = verdict;
    // One token for the request now (before its body is read), one more for each further message of a batch below.
    if (this.rateLimiter && !(await this.charge(req, res, clientKey, 1))) return;
    if (this.draining && req.method !== 'POST') {
      req.resume();
      return this.refuseWhileDraining(res, null);
    }
    // The caller's key travels with its requests (queue share, task and session ownership); the token itself never does.
    const authInfo: AuthInfo = callerAuthInfo(clientKey, verdict.authenticated);
    if (req.method !== 'POST') return this.handleBodyless(req, res, authInfo);
    const body = await this.readJsonBody(req, res);
    if (body === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return sendRpcError(res, 400, RPC.parseError, `Parse error: the body is not valid JSON (${(error as Error).message})`);
    }
    // Refused after the (bounded) body is read, so that the answer carries the request's id.
    if (this.draining) return this.refuseWhileDraining(res, idOf(parsed));
    if (Array.isArray(parsed)) {
      const max = this.options.http.max_batch;
      if (parsed.length > max) return sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request: a batch of ${parsed.length} messages; at most ${max} are accepted in one request (http.max_batch)`);
      if (this.rateLimiter && parsed.length > 1 && !(await this.charge(req, res, clientKey, parsed.length - 1))) return;
    }
    if (!Array.isArray(parsed) && !asJsonRpcMessage(parsed)) return sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request: ${NOT_A_JSON_RPC_MESSAGE}`, {}, idOf(parsed));
    // A plain 2025-era tools/call needs no classifier: it has no envelope and names no modern revision.
    if (this.legs!.legacy.fast?.plainLegacyCall(parsed, headerValue(req.headers, 'mcp-protocol-version'))) return this.handleLegacy(req, res, parsed, authInfo);
    const outcome = classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: headerValue(req.headers, 'mcp-protocol-version'),
      mcpMethodHeader: headerValue(req.headers, 'mcp-method'),
      mcpNameHeader: headerValue(req.headers, 'mcp-name'),
      body: parsed,
    });
    if (outcome.kind === 'reject') return sendRpcError(res, outcome.httpStatus, outcome.code, outcome.message, {}, idOf(parsed), outcome.data);
    if (outcome.kind === 'modern') return this.handleModern(req, res, parsed, outcome.message.method, outcome.classification.revision, authInfo);
    return this.handleLegacy(req, res, parsed, authInfo);
  }

  private refuseWhileDraining(res: ServerResponse, id: JsonRpcId): void {
    sendRpcError(res, 503, RPC.serverError, 'pistom is shutting down; retry on another replica', { 'retry-after': '1' }, id);
  }

  /** Takes `cost` rate-limit tokens for this client; false after answering 429. */
  private async charge(req: IncomingMessage, res: ServerResponse, clientKey: string, cost: number): Promise<boolean> {
    const limiter = this.rateLimiter!;
    const taken = limiter.take(clientKey, cost);
    const decision: RateDecision = taken instanceof Promise ? await taken : taken;
    if (decision.allowed) return true;
    req.resume();
    const batch = cost > 1 ? ` (a batch costs one request per message: this one ${cost + 1}${cost + 1 > limiter.burst ? `, more than the burst of ${limiter.burst}: split it` : ''})` : '';
    sendRpcError(res, 429, RPC.serverError, `Too Many Requests: this client is limited to ${limiter.describe()}${batch}; retry in ${decision.retryAfterSeconds} s`, { 'retry-after': String(decision.retryAfterSeconds) });
    return false;
  }

  private handleModern(req: IncomingMessage, res: ServerResponse, parsed: unknown, method: string, revision: string | undefined, authInfo: AuthInfo): void {
    const id = idOf(parsed);
    if (revision === undefined || !(MODERN_VERSIONS as readonly string[]).includes(revision)) {
      const requested = revision ?? 'unknown';
      return sendRpcError(res, 400, RPC.unsupportedProtocolVersion, `Unsupported protocol version: ${requested}; this server speaks ${SUPPORTED_VERSIONS.join(', ')} (2026-07-28 per request; the others after initialize)`, {}, id, { supported: [...MODERN_VERSIONS], requested });
    }
    if (id !== null) {
      const problem = standardHeaderProblem(req.headers, method, (parsed as { params?: unknown }).params);
      if (problem) return sendRpcError(res, 400, problem.code, problem.message, {}, id, problem.data);
    }
    const leg = this.legs!.modern;
    handleStatelessPost({ transport: leg.transport, fast: leg.fast, req, res, body: parsed, authInfo, bounds: this.bounds });
  }

  private async handleLegacy(req: IncomingMessage, res: ServerResponse, parsed: unknown, authInfo: AuthInfo): Promise<void> {
    const version = headerValue(req.headers, 'mcp-protocol-version');
    if (version !== undefined && !(LEGACY_VERSIONS as readonly string[]).includes(version)) {
      return sendRpcError(res, 400, RPC.serverError, `unsupported MCP-Protocol-Version ${version}; supported: ${SUPPORTED_VERSIONS.join(', ')}`, {}, idOf(parsed));
    }
    if (this.sessions) return this.sessions.handle(req, res, parsed, authInfo);
    const leg = this.legs!.legacy;
    handleStatelessPost({ transport: leg.transport, fast: leg.fast, req, res, body: parsed, authInfo, bounds: this.bounds });
  }

  /** GET and DELETE: session operations of the 2025 era. */
  private async handleBodyless(req: IncomingMessage, res: ServerResponse, authInfo: AuthInfo): Promise<void> {
    if (this.sessions) return this.sessions.handle(req, res, undefined, authInfo);
    req.resume();
    sendRpcError(res, 405, RPC.serverError, 'Method not allowed: this server is stateless; send JSON-RPC with POST', { allow: 'POST' });
  }

  /** The body as text, or undefined after answering the error. */
  private async readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    const type = req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('application/json')) {
      req.resume();
      sendRpcError(res, 415, RPC.serverError, `Unsupported Media Type: send Content-Type: application/json (got ${type ? `"${type}"` : 'none'})`);
      return undefined;
    }
    let body: string;
    try {
      body = await readCapped(req, this.options.http.max_body_bytes, 'discard');
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendRpcError(res, 413, RPC.serverError, `request body over ${error.limit} bytes (http.max_body_bytes)`, { connection: 'close' });
        return undefined;
      }
      throw error;
    }
    const maxDepth = this.options.http.max_json_depth;
    if (jsonDepthOver(body, maxDepth) !== undefined) {
      sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request: JSON nested deeper than ${maxDepth} levels (http.max_json_depth); MCP messages need far fewer`, {}, requestIdOf(body));
      return undefined;
    }
    return body;
  }

  /** Stops accepting MCP calls (readiness turns false); calls in flight continue. */
  beginDrain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    this.draining = true;
    await this.sessions?.close();
    await this.legs?.modern.server.close().catch(() => undefined);
    await this.legs?.legacy.server.close().catch(() => undefined);
    await closeServer(this.server, 1000);
  }
}
