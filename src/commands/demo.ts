/**
 * `pistom demo`: the whole thing in one command, with no Piston node needed. Starts three
 * simulated nodes, pistom over Streamable HTTP on loopback, and an MCP client session against it.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../config/load.js';
import { createPistom } from '../app.js';
import { PistomHttpServer } from '../mcp/http/server.js';
import { startSimCluster } from '../sim/index.js';
import { VERSION } from '../version.js';

type ToolResult = { isError?: boolean; content?: Array<{ type: string; text?: string }>; structuredContent?: Record<string, unknown> };

function show(title: string, result: ToolResult): void {
  const text = (result.content ?? []).map((item) => item.text ?? '').join('\n');
  process.stdout.write(`\n> ${title}${result.isError ? '  [isError]' : ''}\n${text.replace(/^/gm, '  ')}\n`);
}

export async function runDemo(_argv: string[]): Promise<number> {
  const sims = await startSimCluster(3, { latencyMs: 20, model: 'interpreter' }); // the demo shows what real programs print
  const config = parseConfig({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url })), http: { port: 0 } }, 'demo');
  const pistom = createPistom(config);
  const http = new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready });
  const client = new Client({ name: 'pistom-demo', version: VERSION }, { versionNegotiation: { mode: 'auto' } });
  try {
    const url = await http.listen();
    process.stdout.write(`pistom ${VERSION} demo\nsimulated Piston nodes: ${sims.map((sim) => `${sim.name} ${sim.url}`).join(', ')}\npistom MCP endpoint: ${url}/mcp\n`);
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    const tools = await client.listTools();
    process.stdout.write(`\n> tools/list\n  ${tools.tools.map((tool) => tool.name).join(', ')}\n`);
    const runtimes = (await client.callTool({ name: 'list_runtimes', arguments: {} })) as ToolResult;
    show('list_runtimes', runtimes);
    show('execute python: print("hello from pistom")', (await client.callTool({ name: 'execute', arguments: { language: 'python', code: 'print("hello from pistom")' } })) as ToolResult);
    show('execute c with args (compile + run)', (await client.callTool({ name: 'execute', arguments: { language: 'c', code: '#include <stdio.h>\nint main(int c, char **v) { printf("42 %s\\n", v[1]); return 0; }', args: ['arg1'] } })) as ToolResult);
    show('execute python that exits with code 3 (a program outcome, not an error)', (await client.callTool({ name: 'execute', arguments: { language: 'py', code: 'import sys\nprint("bye")\nsys.exit(3)' } })) as ToolResult);
    show('execute in an unknown language (an error that says what to do)', (await client.callTool({ name: 'execute', arguments: { language: 'pyhton', code: 'print(1)' } })) as ToolResult);
    show('run_python_code (the original Pistom tool)', (await client.callTool({ name: 'run_python_code', arguments: { code: 'print(6 * 7)' } })) as ToolResult);
    const status = (await client.callTool({ name: 'cluster_status', arguments: {} })) as ToolResult;
    const nodes = (status.structuredContent?.nodes ?? []) as Array<{ name: string; health: string; breaker: string; completed: number }>;
    process.stdout.write(`\n> cluster_status\n${nodes.map((node) => `  ${node.name}: health=${node.health} breaker=${node.breaker} completed=${node.completed}`).join('\n')}\n`);
    process.stdout.write('\ndemo finished: pistom routed every call to a simulated node. Next: README.md "Use it with your own Piston nodes".\n');
    return 0;
  } finally {
    await client.close().catch(() => undefined);
    await http.close();
    await pistom.close();
    await Promise.all(sims.map((sim) => sim.close()));
  }
}
