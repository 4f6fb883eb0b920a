/**
 * Stateful mode: one SDK StreamableHTTPServerTransport and McpServer per MCP session
 * (Mcp-Session-Id), with a cap on sessions and an idle timeout.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { RPC, sendRpcError } from './respond.js';

interface Session {
  transport: StreamableHTTPServerTransport;
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
        sendRpcError(res, 404, RPC.serverError, 'Session not found: it expired or the server restarted; start a new session with initialize');
        return;
      }
      session.lastSeen = Date.now();
      await session.transport.handleRequest(req, res, parsedBody);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      sendRpcError(res, 400, RPC.serverError, 'Bad Request: no Mcp-Session-Id header; the first request of a session must be initialize');
      return;
    }
    if (this.sessions.size >= this.options.maxSessions) {
      sendRpcError(res, 503, RPC.serverError, `too many open sessions (${this.options.maxSessions}); close one or retry later`, { 'retry-after': '5' });
      return;
    }
    const server = this.options.createServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
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
