/**
 * The HTTP front: Streamable HTTP at /mcp (stateless by default, stateful sessions as an option),
 * GET /healthz (the process lives), GET /readyz (a node can serve), GET /metrics when enabled.
 * Guards (Host, Origin, bearer token) and the body limit apply to /mcp.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { readBody, BodyTooLargeError } from './body.js';
import { RequestGuard, isLoopbackHost } from './guards.js';
import { jsonDepthOver, requestIdOf } from './json-depth.js';
import { ClientRateLimiter } from './rate-limit.js';
import { MultiplexTransport } from './mux-transport.js';
import { RPC, sendJson, sendRpcError } from './respond.js';
import { SessionManager } from './sessions.js';
import { handleStatelessPost } from './stateless.js';

export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

export interface HttpServerOptions {
  http: Config['http'];
  createMcpServer: () => McpServer;
  /** True when at least one node can serve. */
  ready: () => boolean;
  metrics?: MetricsEndpoint;
  logger?: Logger;
}

export class HttpStartError extends Error {
  override readonly name = 'HttpStartError';
}

export class PistomHttpServer {
  private readonly server: Server;
  private readonly guard: RequestGuard;
  private readonly rateLimiter: ClientRateLimiter | undefined;
  private readonly logger: Logger;
  private readonly sockets = new Set<Socket>();
  private mux: { server: McpServer; transport: MultiplexTransport } | undefined;
  private sessions: SessionManager | undefined;
  private draining = false;

  constructor(private readonly options: HttpServerOptions) {
    const http = options.http;
    this.logger = options.logger ?? silentLogger();
    if (!isLoopbackHost(http.host) && http.auth_tokens.length === 0 && !http.allow_unauthenticated_public) {
      throw new HttpStartError(
        `refusing to serve on ${http.host} without authentication: set auth tokens (http.auth_tokens or PISTOM_AUTH_TOKENS), bind to 127.0.0.1, or set http.allow_unauthenticated_public to true (--allow-public) if something else in front authenticates`,
      );
    }
    this.guard = new RequestGuard({ allowedHosts: http.allowed_hosts, allowedOrigins: http.allowed_origins, tokens: http.auth_tokens, bindHost: http.host });
    this.rateLimiter = http.rate_limit ? new ClientRateLimiter({ perSecond: http.rate_limit.per_second, burst: http.rate_limit.burst }) : undefined;
    this.server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 5_000 }, (req, res) => {
      this.route(req, res).catch((error: unknown) => {
        this.logger.error({ err: error }, 'HTTP handler failed');
        if (!res.headersSent) sendRpcError(res, 500, RPC.serverError, 'internal error in pistom');
        else res.end();
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // No 'clientError' listener on purpose: Node's own answers malformed requests with 400, oversized
    // headers with 431 and slow ones with 408, and never writes into a response already started.
    if (http.stateful) {
      this.sessions = new SessionManager({ createServer: options.createMcpServer, idleMs: http.session_idle_ms, maxSessions: http.max_sessions });
    }
  }

  async listen(): Promise<string> {
    if (!this.options.http.stateful) {
      const transport = new MultiplexTransport();
      const server = this.options.createMcpServer();
      await server.connect(transport);
      this.mux = { server, transport };
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.http.port, this.options.http.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Calls still being answered over HTTP. */
  get pending(): number {
    return this.mux?.transport.pending ?? 0;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz' && req.method === 'GET') {
      const ready = !this.draining && this.options.ready();
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : this.draining ? 'shutting down' : 'no node can serve' });
    }
    if (path === '/metrics' && req.method === 'GET' && this.options.metrics) {
      const text = await this.options.metrics.render();
      res.writeHead(200, { 'content-type': this.options.metrics.contentType });
      res.end(text);
      return;
    }
    if (path === '/mcp') return this.handleMcp(req, res);
    sendJson(res, 404, { error: `no route ${req.method} ${path}; MCP is served at /mcp, health at /healthz and /readyz` });
  }

  private async handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const failure = this.guard.check(req);
    if (failure) {
      req.resume();
      return sendRpcError(res, failure.status, RPC.serverError, failure.message, failure.headers);
    }
    const rate = this.rateLimiter?.take(this.guard.clientKey(req));
    if (rate && !rate.allowed) {
      req.resume();
      return sendRpcError(res, 429, RPC.serverError, `Too Many Requests: this client is limited to ${this.rateLimiter!.describe()}; retry in ${rate.retryAfterSeconds} s`, { 'retry-after': String(rate.retryAfterSeconds) });
    }
    if (this.draining) {
      req.resume();
      return sendRpcError(res, 503, RPC.serverError, 'pistom is shutting down; retry on another replica', { 'retry-after': '1' });
    }
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      req.resume();
      return sendRpcError(res, 400, RPC.serverError, `unsupported MCP-Protocol-Version ${version}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
    }
    if (this.sessions) return this.handleStateful(req, res);
    if (req.method !== 'POST') {
      req.resume();
      return sendRpcError(res, 405, RPC.serverError, 'Method not allowed: this server is stateless; send JSON-RPC with POST', { allow: 'POST' });
    }
    const body = await this.readJsonBody(req, res);
    if (body === undefined) return;
    handleStatelessPost(this.mux!.transport, req, res, body, this.guard.clientKey(req));
  }

  private async handleStateful(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed: unknown;
    if (req.method === 'POST') {
      const body = await this.readJsonBody(req, res);
      if (body === undefined) return;
      try {
        parsed = JSON.parse(body);
      } catch (error) {
        return sendRpcError(res, 400, RPC.parseError, `Parse error: the body is not valid JSON (${(error as Error).message})`);
      }
    }
    await this.sessions!.handle(req, res, parsed);
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
      body = await readBody(req, this.options.http.max_body_bytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendRpcError(res, 413, RPC.serverError, `request body over ${error.limit} bytes (http.max_body_bytes)`, { connection: 'close' });
        return undefined;
      }
      throw error;
    }
    const maxDepth = this.options.http.max_json_depth;
    if (jsonDepthOver(body, maxDepth) !== undefined) {
      const error = { code: RPC.invalidRequest, message: `Invalid Request: JSON nested deeper than ${maxDepth} levels (http.max_json_depth); MCP messages need far fewer` };
      sendJson(res, 400, { jsonrpc: '2.0', id: requestIdOf(body), error });
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
    await this.mux?.server.close().catch(() => undefined);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, 1000).unref();
    });
  }
}
