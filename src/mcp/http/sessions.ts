/**
 * Stateful mode (2025 era, `--stateful`): one SDK Streamable HTTP transport and McpServer per MCP
 * session (Mcp-Session-Id), with a cap on sessions and an idle timeout. The session is the scope
 * of its requests: ids, cancellations and progress never cross sessions.
 *
 * Seam for issue 11: `handle` receives the caller's key; binding a session to the key that opened
 * it (and capping sessions per key) goes in `open` and at the lookup below.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type McpServer } from '@modelcontextprotocol/server';
import { RPC, idOf, sendRpcError } from './respond.js';

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
}

export interface SessionOptions {
  createServer: () => McpServer;
  idleMs: number;
  maxSessions: number;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SessionOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(options.idleMs, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void> {
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId) {
      const session = this.sessions.get(sessionId);
      if (!session) {
        sendRpcError(res, 404, RPC.serverError, 'Session not found: it expired or the server restarted; start a new session with initialize', {}, idOf(parsedBody));
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
    if (this.sessions.size >= this.options.maxSessions) {
      sendRpcError(res, 503, RPC.serverError, `too many open sessions (${this.options.maxSessions}); close one or retry later`, { 'retry-after': '5' }, idOf(parsedBody));
      return;
    }
    await this.open(req, res, parsedBody);
  }

  private async open(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void> {
    const server = this.options.createServer();
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server, lastSeen: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, parsedBody);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const [id, session] of this.sessions) {
      if (session.lastSeen < cutoff) {
        this.sessions.delete(id);
        void session.server.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((session) => session.server.close().catch(() => undefined)));
  }
}
