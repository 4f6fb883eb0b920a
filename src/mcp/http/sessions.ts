/**
 * Stateful mode (2025 era, `--stateful`): one SDK Streamable HTTP transport and McpServer per MCP
 * session (Mcp-Session-Id), with a cap on sessions and an idle timeout. The session is the scope
 * of its requests: ids, cancellations and progress never cross sessions.
 *
 * A session belongs to the client that opened it (its key: the token, or the address without
 * auth): to anyone else its id does not exist (404, as for an unknown id), so holding someone's
 * session id lets no one call, delete or cancel in it. One client holds at most `maxPerClient`
 * sessions, so it cannot fill `maxSessions` for everyone else.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type AuthInfo, type McpServer } from '@modelcontextprotocol/server';
import { RPC, idOf, sendRpcError } from './respond.js';
import { headerValue } from '../../util/http.js';

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  owner: string;
}

export interface SessionOptions {
  createServer: () => McpServer;
  idleMs: number;
  maxSessions: number;
  /** Sessions one client may hold. */
  maxPerClient: number;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly perOwner = new Map<string, number>();
  /** Sessions being opened (initialize in progress), per owner: they count for the caps too. */
  private opening = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SessionOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(options.idleMs, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Sessions held by one client (for tests and status). */
  heldBy(owner: string): number {
    return this.perOwner.get(owner) ?? 0;
  }

  async handle(req: IncomingMessage, res: ServerResponse, parsedBody: unknown, caller: AuthInfo): Promise<void> {
    const sessionId = headerValue(req.headers, 'mcp-session-id');
    // The SDK's transport hands req.auth to the server as the request's authInfo (the caller's key).
    (req as IncomingMessage & { auth?: AuthInfo }).auth = caller;
    if (sessionId) {
      const session = this.sessions.get(sessionId);
      if (!session || session.owner !== caller.clientId) {
        sendRpcError(res, 404, RPC.serverError, 'Session not found: it expired, the server restarted, or it was opened by another client; start a new session with initialize', {}, idOf(parsedBody));
        return;
      }
      session.lastSeen = Date.now();
      await session.transport.handleRequest(req, res, parsedBody);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      sendRpcError(res, 400, RPC.serverError, 'Bad Request: no Mcp-Session-Id header; the first request of a session must be initialize', {}, idOf(parsedBody));
      return;
    }
    const owner = caller.clientId;
    const held = this.heldBy(owner);
    if (held >= this.options.maxPerClient) {
      sendRpcError(res, 429, RPC.serverError, `this client already holds ${held} open sessions (http.max_sessions_per_client); close one with DELETE (Mcp-Session-Id) or let it idle out (http.session_idle_ms)`, { 'retry-after': '5' }, idOf(parsedBody));
      return;
    }
    if (this.sessions.size + this.opening >= this.options.maxSessions) {
      sendRpcError(res, 503, RPC.serverError, `too many open sessions (${this.options.maxSessions}); close one or retry later`, { 'retry-after': '5' }, idOf(parsedBody));
      return;
    }
    await this.open(req, res, parsedBody, owner);
  }

  private async open(req: IncomingMessage, res: ServerResponse, parsedBody: unknown, owner: string): Promise<void> {
    const server = this.options.createServer();
    this.opening++;
    this.count(owner, +1);
    let registered = false;
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        registered = true;
        this.sessions.set(id, { transport, server, lastSeen: Date.now(), owner });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId && this.sessions.get(transport.sessionId)?.transport === transport) this.forget(transport.sessionId);
    };
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, parsedBody);
    } finally {
      this.opening--;
      // An initialize that failed opened nothing: its place is given back.
      if (!registered) {
        this.count(owner, -1);
        void server.close().catch(() => undefined);
      }
    }
  }

  private count(owner: string, delta: number): void {
    const next = this.heldBy(owner) + delta;
    if (next > 0) this.perOwner.set(owner, next);
    else this.perOwner.delete(owner);
  }

  private forget(id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    this.sessions.delete(id);
    this.count(session.owner, -1);
    return session;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const [id, session] of this.sessions) {
      if (session.lastSeen < cutoff) {
        this.forget(id);
        void session.server.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.perOwner.clear();
    await Promise.all(all.map((session) => session.server.close().catch(() => undefined)));
  }
}
