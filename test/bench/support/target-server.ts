/**
 * One HTTP server under test, in its own process, for test/bench/http-throughput.ts:
 *   pistom  pistom's stateless Streamable HTTP (one server, multiplexed)
 *   naive   the v1 MCP SDK's stateless example pattern: a new McpServer and transport per request,
 *           with the same tools and the same router behind them (2025 era only)
 *   sdk-v2  the v2 SDK's own handler (createMcpHandler, both eras; a server per request from
 *           the same factory pistom uses), mounted with @modelcontextprotocol/node
 *   echo    a bare node:http JSON-RPC echo (no MCP, no upstream call): the ceiling of node:http
 * Prints its URL on stdout, stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { z } from 'zod';
import { ExecuteInputSchema } from '../../../src/request/schema.js';
import { formatExecuteText } from '../../../src/mcp/format.js';
import { parseConfig } from '../../../src/config/load.js';
import { createPistom } from '../../../src/app.js';
import { PistomHttpServer } from '../../../src/mcp/http/server.js';

const { values } = parseArgs({ options: { mode: { type: 'string' }, backend: { type: 'string' }, slow: { type: 'boolean' }, 'fast-path': { type: 'string' } } });
const mode = values.mode ?? 'pistom';
// --slow: for runs under an instruction counter (valgrind), where everything takes ~20x longer:
// no liveness probes or deadlines that would fire only because the process is slowed down.
const slow = values.slow ? { health: { probe_after_min_ms: 600_000, probe_after_max_ms: 600_000, interval_ms: 600_000 }, retry: { deadline_ms: 600_000 }, client: { answer_margin_ms: 600_000 } } : {};
const config = parseConfig({ nodes: [{ name: 'sim', url: values.backend ?? 'http://127.0.0.1:1', max_concurrent: 256 }], http: { port: 0, fast_path: values['fast-path'] !== 'off' }, admission: { max_queue: 10_000 }, log: { level: 'silent' }, ...slow });
const pistom = createPistom(config, { healthChecks: false });

let url: string;
let close: () => Promise<void>;
/** The v1 SDK's McpServer with the same execute tool and router (the v1 line cannot host pistom's v2 server). */
function v1Server(): V1McpServer {
  const server = new V1McpServer({ name: 'pistom-v1-baseline', version: '0.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('execute', { inputSchema: ExecuteInputSchema.shape as unknown as Record<string, z.ZodType> }, async (input: unknown, extra) => {
    const result = await pistom.router.execute(input as never, { signal: extra.signal });
    return { content: [{ type: 'text' as const, text: formatExecuteText(result) }], structuredContent: result };
  });
  return server;
}

if (mode === 'pistom') {
  const http = new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready });
  url = `${await http.listen()}/mcp`;
  close = () => http.close();
} else if (mode === 'sdk-v2') {
  const handler = createMcpHandler(({ era }) => pistom.createMcpServer(era));
  const node = toNodeHandler(handler);
  const server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  close = async () => {
    await handler.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
} else {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number };
    if (mode === 'echo') {
      const text = JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { content: [{ type: 'text', text: 'echo' }] } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const mcp = v1Server();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
}
process.stdout.write(`${url}\n`);
process.on('SIGTERM', () => {
  void close()
    .then(() => pistom.close())
    .then(() => process.exit(0));
});
