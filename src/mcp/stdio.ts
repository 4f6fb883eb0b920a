/**
 * MCP over stdio, both eras: the SDK's serveStdio picks the era from the connection's opening
 * message (initialize, or a request carrying the 2026-07-28 envelope) and pins one server for the
 * connection. Over stdio the connection is the client, so ids and cancellations are scoped to it.
 *
 * The wire is pistom's own line transport so that:
 *  - a line that is not JSON is answered with -32700 (and logged at debug), not dropped;
 *  - a batch line (no revision that has batches uses stdio with them) is answered with -32600;
 *  - every request that claims a protocol revision in its `_meta` envelope is checked, not only the
 *    opening one (the SDK pins the connection's era on the first message and checks no later claim);
 *  - the end of stdin does not abort calls still running: `ended` resolves, the caller drains
 *    the router so those calls answer, then closes;
 *  - backpressure: while stdout is not being read (a write is refused until 'drain'), stdin is not
 *    read either, so a client that stops reading cannot make pistom buffer its answers without end;
 *  - each answer's delivery (the write succeeded or failed) is reported for the call counts.
 */
import { serveStdio as sdkServeStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import { PROTOCOL_VERSION_META_KEY, UnsupportedProtocolVersionError, type JSONRPCMessage, type McpServer, type RequestId, type Transport } from '@modelcontextprotocol/server';
import type { DeliveryReport } from './delivery.js';
import { partsOf } from './server.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { MODERN_VERSIONS, RPC, type Era } from './protocol.js';
import { asJsonRpcMessage, idOf, NOT_A_JSON_RPC_MESSAGE } from './http/jsonrpc.js';

/** Newline-delimited JSON-RPC on two streams; answers lines it cannot use instead of dropping them. */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private buffer = '';
  private closed = false;
  private waitingForDrain = false;
  /** Told what became of each answer; set by whoever counts calls. */
  delivery: DeliveryReport | undefined;
  private endedResolve!: () => void;
  /** Resolves when the input ends (the client closed its side). */
  readonly ended = new Promise<void>((resolve) => (this.endedResolve = resolve));

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly logger: Logger,
  ) {}

  private readonly onData = (chunk: Buffer | string) => {
    this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim().length > 0) this.receive(line);
    }
  };

  private readonly onEnd = () => this.endedResolve();

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.once('end', this.onEnd);
    this.input.once('close', this.onEnd);
  }

  private receive(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      this.logger.debug({ bytes: line.length, reason: (error as Error).message }, 'stdio: a line that is not JSON; answered -32700');
      this.reply(RPC.parseError, `Parse error: the line is not valid JSON (${(error as Error).message}); send one JSON-RPC message per line`);
      return;
    }
    if (Array.isArray(parsed)) {
      this.logger.debug({ items: parsed.length }, 'stdio: a batch line; answered -32600');
      this.reply(RPC.invalidRequest, 'Invalid Request: JSON-RPC batches are not accepted over stdio; send one message per line');
      return;
    }
    const message = asJsonRpcMessage(parsed);
    if (!message) {
      this.reply(RPC.invalidRequest, `Invalid Request: ${NOT_A_JSON_RPC_MESSAGE}`, idOf(parsed));
      return;
    }
    const claimed = unsupportedRevisionOf(message);
    if (claimed !== undefined) {
      const error = new UnsupportedProtocolVersionError({ supported: [...MODERN_VERSIONS], requested: claimed });
      this.logger.debug({ requested: claimed }, 'stdio: a request claiming an unsupported protocol revision; answered -32022');
      void this.send({ jsonrpc: '2.0', id: (message as { id: RequestId }).id, error: { code: error.code, message: error.message, data: error.data } } as JSONRPCMessage).catch(() => undefined);
      return;
    }
    if ('method' in message && message.method === 'notifications/cancelled' && !('id' in message)) {
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (requestId !== undefined) this.delivery?.abandoned(requestId);
    }
    this.onmessage?.(message);
  }

  /** True while stdin is paused because stdout is not being read. */
  get paused(): boolean {
    return this.waitingForDrain;
  }

  private reply(code: number, message: string, id: string | number | null = null): void {
    void this.send({ jsonrpc: '2.0', id, error: { code, message } } as JSONRPCMessage).catch(() => undefined);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const answerId = 'id' in message && ('result' in message || 'error' in message) ? (message.id as RequestId) : undefined;
    if (this.closed) {
      if (answerId !== undefined) this.delivery?.delivered(answerId, false);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const accepted = this.output.write(`${JSON.stringify(message)}\n`, (error) => {
        if (answerId !== undefined) this.delivery?.delivered(answerId, !error);
        if (error) {
          this.logger.warn({ err: error }, 'stdio: an answer could not be written to stdout');
          reject(error);
        } else resolve();
      });
      if (!accepted) this.holdInput();
    });
  }

  /** Stops reading stdin until stdout drains. */
  private holdInput(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.input.pause();
    this.logger.debug('stdio: stdout is not being read; stopped reading stdin until it drains');
    this.output.once('drain', () => {
      this.waitingForDrain = false;
      if (!this.closed) this.input.resume();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    // A stdin still open must not keep the process alive once the connection is closed.
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.endedResolve();
    this.onclose?.();
  }
}

/** The revision a request's `_meta` envelope claims, when it is one this server does not speak. */
function unsupportedRevisionOf(message: JSONRPCMessage): string | undefined {
  if (!('method' in message) || !('id' in message)) return undefined;
  const meta = (message.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const claimed = meta?.[PROTOCOL_VERSION_META_KEY];
  if (typeof claimed !== 'string') return undefined;
  return (MODERN_VERSIONS as readonly string[]).includes(claimed) ? undefined : claimed;
}

export interface StdioConnection {
  /** Resolves when stdin ends. Calls still running go on until close(). */
  ended: Promise<void>;
  close(): Promise<void>;
}

export interface StdioOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  logger?: Logger;
}

export function serveStdio(createServer: (era: Era) => McpServer, options: StdioOptions = {}): StdioConnection {
  const logger = options.logger ?? silentLogger();
  const wire = new StdioLineTransport(options.input ?? process.stdin, options.output ?? process.stdout, logger);
  const serverFor = (era: Era): McpServer => {
    const server = createServer(era);
    const ledger = partsOf(server)?.ledger;
    if (ledger) {
      ledger.deferUntilDelivered();
      wire.delivery = ledger;
    }
    return server;
  };
  const handle: StdioServerHandle = sdkServeStdio(({ era }) => serverFor(era), { transport: wire, onerror: (error) => logger.debug({ err: error }, 'stdio: protocol error') });
  return { ended: wire.ended, close: () => handle.close() };
}
