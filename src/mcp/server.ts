/**
 * The MCP server: tools `execute`, `list_runtimes`, `run_python_code` (the original Pistom's tool)
 * and `cluster_status`, plus the status as a resource. Transports are elsewhere (stdio.ts, http/).
 */
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { CallError } from '../errors.js';
import type { ProgressUpdate, Router } from '../router.js';
import { ExecuteInputSchema, ExecuteOutputShape, type ExecuteInput } from '../request/schema.js';
import { formatExecuteText } from './format.js';
import { ClusterStatusSchema } from '../router/status.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface McpServerOptions {
  logger?: Logger;
  /** Called once per tool call, for metrics. */
  onToolCall?: (tool: string, outcome: string, seconds: number) => void;
}

const RuntimeListShape = {
  runtimes: z.array(
    z.object({
      language: z.string(),
      version: z.string(),
      aliases: z.array(z.string()),
      nodes: z.array(z.string()).describe('Nodes that offer this runtime.'),
    }),
  ),
};

export const STATUS_RESOURCE_URI = 'pistom://cluster/status';

/**
 * Where the machine-readable error goes. Not structuredContent: clients validate that against the
 * tool's output schema (the SDK's Client does), which describes successful runs.
 */
export const ERROR_META_KEY = 'pistom/error';

function errorResult(error: CallError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: error.message }], _meta: { [ERROR_META_KEY]: error.toJSON() } };
}

function progressReporter(extra: Extra): ((update: ProgressUpdate) => void) | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let progress = 0;
  return (update) => {
    progress++;
    void extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message: update.message } })
      .catch(() => undefined);
  };
}

export function createMcpServer(router: Router, options: McpServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'pistom', title: 'pistom: code execution on a Piston cluster', version: VERSION },
    {
      capabilities: { tools: {}, resources: {}, logging: {} },
      instructions:
        'Run code with the execute tool (language, code or files, optional stdin/args/limits). A program that fails is a normal result: read run.status and run.code. isError means the run could not happen; its message says what to do. list_runtimes shows the languages.',
    },
  );

  const execute = async (tool: string, input: ExecuteInput, extra: Extra): Promise<CallToolResult> => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      // JSON-RPC ids repeat across clients and sessions: each call gets an id of its own for the logs.
      const requestId = randomUUID();
      const result = await router.execute(input, { signal: extra.signal, onProgress: progressReporter(extra), requestId, logger: options.logger?.child({ request_id: requestId, rpc_id: extra.requestId, tool }) });
      return { content: [{ type: 'text', text: formatExecuteText(result) }], structuredContent: result };
    } catch (error) {
      const callError = error instanceof CallError ? error : new CallError('node_fault', 'internal', String((error as Error)?.message ?? error));
      outcome = callError.errorClass;
      return errorResult(callError);
    } finally {
      options.onToolCall?.(tool, outcome, (performance.now() - started) / 1000);
    }
  };

  server.registerTool(
    'execute',
    {
      title: 'Run code',
      description:
        'Run a program on the Piston cluster and return its stdout, stderr, exit code and status. Give language (name or alias, e.g. python, js, c++), and either code (one file) or files (the first is run). Optional: version (semver range, default newest), stdin, args, run_timeout/compile_timeout/run_cpu_time/compile_cpu_time (ms) and run_memory_limit/compile_memory_limit (bytes). A program that fails (non-zero exit, compile error, time or output limit) is a normal result, not an error.',
      inputSchema: ExecuteInputSchema,
      outputSchema: ExecuteOutputShape,
      annotations: { title: 'Run code', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input, extra) => execute('execute', input, extra),
  );

  server.registerTool(
    'run_python_code',
    {
      title: 'Run Python code',
      description: 'Run a Python program (the newest Python on the cluster) and return its output. Kept for setups written for the original Pistom; execute does more.',
      inputSchema: { code: z.string({ error: 'code must be a string of Python source' }).describe('Python source code to run.') },
      outputSchema: ExecuteOutputShape,
      annotations: { title: 'Run Python code', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ code }, extra) => execute('run_python_code', { language: 'python', version: '*', code }, extra),
  );

  server.registerTool(
    'list_runtimes',
    {
      title: 'List runtimes',
      description: 'List the languages and versions the cluster can run, with their aliases and the nodes that offer each.',
      outputSchema: RuntimeListShape,
      annotations: { title: 'List runtimes', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const started = performance.now();
      const runtimes = await router.listRuntimes();
      options.onToolCall?.('list_runtimes', 'ok', (performance.now() - started) / 1000);
      const text = runtimes.length === 0 ? 'No runtimes: no node answered its runtime list.' : runtimes.map((r) => `${r.language} ${r.version} (aliases: ${r.aliases.join(', ') || 'none'}) on ${r.nodes.join(', ')}`).join('\n');
      return { content: [{ type: 'text', text }], structuredContent: { runtimes } };
    },
  );

  server.registerTool(
    'cluster_status',
    {
      title: 'Cluster status',
      description: 'Health, circuit breaker state, ejection (misconfigured or unresponsive, and by which pistom process), load, latency and runtimes of each Piston node, and the global queue.',
      outputSchema: ClusterStatusSchema.shape,
      annotations: { title: 'Cluster status', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const status = router.status();
      options.onToolCall?.('cluster_status', 'ok', 0);
      return { content: [{ type: 'text', text: JSON.stringify(status, null, 2) }], structuredContent: status };
    },
  );

  server.registerResource(
    'cluster-status',
    STATUS_RESOURCE_URI,
    { title: 'Cluster status', description: 'The same view as the cluster_status tool.', mimeType: 'application/json' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(router.status(), null, 2) }] }),
  );

  return server;
}
