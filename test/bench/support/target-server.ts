/**
 * One HTTP server under test, in its own process, for test/bench/http-throughput.ts:
 *   pistom  pistom's stateless Streamable HTTP (one server, multiplexed)
 *   naive   the MCP SDK's stateless example pattern: a new McpServer and transport per request,
 *           with the same tools and the same router behind them
 *   echo    a bare node:http JSON-RPC echo (no MCP, no upstream call): the ceiling of node:http
 * Prints its URL on stdout, stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { parseConfig } from '../../../src/config/load.js';
import { createPistom } from '../../../src/app.js';
import { PistomHttpServer } from '../../../src/mcp/http/server.js';

const { values } = parseArgs({ options: { mode: { type: 'string' }, backend: { type: 'string' } } });
const mode = values.mode ?? 'pistom';
const config = parseConfig({ nodes: [{ name: 'sim', url: values.backend ?? 'http://127.0.0.1:1', max_concurrent: 256 }], http: { port: 0 }, admission: { max_queue: 10_000 }, log: { level: 'silent' } });
const pistom = createPistom(config, { healthChecks: false });

let url: string;
let close: () => Promise<void>;
if (mode === 'pistom') {
  const http = new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready });
  url = `${await http.listen()}/mcp`;
  close = () => http.close();
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
    const mcp = pistom.createMcpServer();
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
