/**
 * The MCP server: tools `execute`, `list_runtimes`, `run_python_code` (the original Pistom's tool)
 * and `cluster_status`, the status as a resource, and (on the 2026-07-28 era) `execute` as a task.
 * One definition serves both eras; transports are elsewhere (stdio.ts, http/).
 */
import { randomUUID } from 'node:crypto';
import { McpServer, ProtocolError, ProtocolErrorCode, type CallToolResult, type RequestId, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { CallError } from '../errors.js';
import type { ProgressUpdate, Router } from '../router.js';
import { ExecuteInputSchema, ExecuteOutputSchema, type ExecuteInput } from '../request/schema.js';
import { formatExecuteText } from './format.js';
import { ClusterStatusSchema } from '../router/status.js';
import { portableSchema } from './json-schema.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { SUPPORTED_VERSIONS, TASKS_EXTENSION, type Era } from './protocol.js';
import type { TaskService } from './tasks/service.js';
import { createTaskResult, negotiatedTasks, registerTaskMethods, taskOwner } from './tasks/wire.js';
import { callerKey } from './caller.js';
import { DeliveryLedger, type CountToolCall } from './delivery.js';

export interface McpServerOptions {
  logger?: Logger;
  /** Called once per tool call, for metrics, when its answer was delivered (outcome "undelivered" when it was not). */
  onToolCall?: CountToolCall;
  /** Runs `execute` as a task for 2026-07-28 requests that declare the tasks extension. */
  tasks?: TaskService;
}

const RuntimeListSchema = z.object({
  runtimes: z.array(
    z.object({
      language: z.string(),
      version: z.string(),
      aliases: z.array(z.string()),
      nodes: z.array(z.string()).describe('Nodes that offer this runtime.'),
    }),
  ),
});

const RunPythonInputSchema = z.object({ code: z.string({ error: 'code must be a string of Python source' }).describe('Python source code to run.') }).strict();

export const STATUS_RESOURCE_URI = 'pistom://cluster/status';

/**
 * Where the machine-readable error goes. Not structuredContent: clients validate that against the
 * tool's output schema (the SDK's Client does), which describes successful runs.
 */
export const ERROR_META_KEY = 'pistom/error';

const INSTRUCTIONS =
  'Run code with the execute tool (language, code or files, optional stdin/args/limits). A program that fails is a normal result: read run.status and run.code. isError means the run could not happen; its message says what to do. list_runtimes shows the languages.';

function errorResult(error: CallError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: error.message }], _meta: { [ERROR_META_KEY]: error.toJSON() } };
}

function progressReporter(ctx: ServerContext): ((update: ProgressUpdate) => void) | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return undefined;
  let progress = 0;
  return (update) => {
    progress++;
    void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, message: update.message } }).catch(() => undefined);
  };
}

/** What a tool run knows about the request that asked for it, whichever path carried it. */
export interface CallScope {
  /** The request's id as its transport knows it (logs, delivery accounting). */
  id: RequestId;
  signal: AbortSignal;
  /** Progress for the caller, when it asked for progress. */
  onProgress?: (update: ProgressUpdate) => void;
  /** The caller's key (guards.ts clientKeyOf), for its share of the queue. */
  client?: string;
  /** Counts the call once it has ended (outcome: ok or the error class). */
  account(tool: string, outcome: string, seconds: number): void;
}

/** A tool as pistom runs it: its input schema and what a call does. */
export interface ToolEntry {
  input: z.ZodType;
  run(args: unknown, scope: CallScope): Promise<CallToolResult>;
  /** May run as a task. */
  taskSupport: boolean;
}

// Built once: every server (per era, per session, per stdio connection) lists the same schemas.
const EXECUTE_OUTPUT = portableSchema(ExecuteOutputSchema, 'output');
const RUNTIME_LIST_OUTPUT = portableSchema(RuntimeListSchema, 'output');
const CLUSTER_STATUS_OUTPUT = portableSchema(ClusterStatusSchema, 'output');

export function describeInvalidArguments(tool: string, error: z.ZodError): string {
  return `Input validation error: invalid arguments for tool ${tool}: ${error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ')}`;
}

/** A tool's answer and the outcome class it is counted under. */
interface Ran {
  result: CallToolResult;
  outcome: string;
}

/**
 * A tool's run, counted once however it ends: timed from start to answer, and counted (outcome
 * "internal") even when it throws, so that no call's accounting is left open.
 */
function accounted(tool: string, run: (args: unknown, scope: CallScope) => Promise<Ran>): ToolEntry['run'] {
  return async (args, scope) => {
    const started = performance.now();
    let outcome = 'internal';
    try {
      const ran = await run(args, scope);
      outcome = ran.outcome;
      return ran.result;
    } finally {
      scope.account(tool, outcome, (performance.now() - started) / 1000);
    }
  };
}

/** pistom's tools, by name: what tools/call runs on every path (the SDK's and the HTTP fast path). */
export function createToolbox(router: Router, options: Pick<McpServerOptions, 'logger'> = {}): Record<string, ToolEntry> {
  const execute = async (tool: string, input: ExecuteInput, scope: CallScope): Promise<Ran> => {
    try {
      // JSON-RPC ids repeat across clients and sessions: each call gets an id of its own for the logs.
      const logger = options.logger && options.logger.level !== 'silent' ? options.logger.child({ request_id: randomUUID(), rpc_id: scope.id, tool }) : undefined;
      const result = await router.execute(input, { signal: scope.signal, onProgress: scope.onProgress, logger, client: scope.client });
      return { result: { content: [{ type: 'text', text: formatExecuteText(result) }], structuredContent: result }, outcome: 'ok' };
    } catch (error) {
      const callError = error instanceof CallError ? error : new CallError('node_fault', 'internal', String((error as Error)?.message ?? error));
      return { result: errorResult(callError), outcome: callError.errorClass };
    }
  };

  return {
    execute: { input: ExecuteInputSchema, taskSupport: true, run: accounted('execute', (args, scope) => execute('execute', args as ExecuteInput, scope)) },
    run_python_code: {
      input: RunPythonInputSchema,
      taskSupport: true,
      run: accounted('run_python_code', (args, scope) => execute('run_python_code', { language: 'python', version: '*', code: (args as { code: string }).code }, scope)),
    },
    list_runtimes: {
      input: z.object({}),
      taskSupport: false,
      run: accounted('list_runtimes', async () => {
        const runtimes = await router.listRuntimes();
        const text = runtimes.length === 0 ? `No runtimes: no node answered its runtime list (${whyNoRuntimes(router)}). See cluster_status and pistom check.` : runtimes.map((r) => `${r.language} ${r.version} (aliases: ${r.aliases.join(', ') || 'none'}) on ${r.nodes.join(', ')}`).join('\n');
        return { result: { content: [{ type: 'text', text }], structuredContent: { runtimes } }, outcome: 'ok' };
      }),
    },
    cluster_status: {
      input: z.object({}),
      taskSupport: false,
      run: accounted('cluster_status', async () => {
        const status = router.status();
        return { result: { content: [{ type: 'text', text: JSON.stringify(status, null, 2) }], structuredContent: status as unknown as Record<string, unknown> }, outcome: 'ok' };
      }),
    },
  };
}

/** How pistom names itself to clients (initialize, and every 2026-07-28 result). */
export const SERVER_INFO = { name: 'pistom', title: 'pistom: code execution on a Piston cluster', version: VERSION };

/** What a transport may need of a server made by createMcpServer besides the server itself. */
export interface ServerParts {
  /** Counts tool calls as their answers are delivered (a transport that reports deliveries defers it). */
  ledger: DeliveryLedger;
  /** The tools, for the HTTP fast path. */
  tools: Record<string, ToolEntry>;
  serverInfo: Record<string, unknown>;
}

const serverParts = new WeakMap<McpServer, ServerParts>();

/** The parts of a server made by createMcpServer (undefined for any other server). */
export function partsOf(server: McpServer): ServerParts | undefined {
  return serverParts.get(server);
}

export function createMcpServer(router: Router, options: McpServerOptions = {}, era: Era = 'legacy'): McpServer {
  const tasks = era === 'modern' ? options.tasks : undefined;
  const server = new McpServer(
    { ...SERVER_INFO },
    {
      // The tool and resource lists never change while pistom runs: no listChanged to subscribe to.
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false }, ...(tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {}) },
      instructions: INSTRUCTIONS,
      supportedProtocolVersions: SUPPORTED_VERSIONS,
    },
  );
  // A 2025-era method outside the specification is told what is served (the SDK answers the
  // specification's own unserved methods). Not in the 2026-07-28 era: there an unknown method must
  // be refused by the SDK's dispatch (HTTP 404), and a handler's error would travel with 200.
  if (era === 'legacy') {
    server.server.fallbackRequestHandler = async (request) => {
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Method not found: "${String(request.method).slice(0, 100)}" is not a method this server answers; it serves MCP's tools (tools/list, tools/call), resources (resources/list, resources/read) and ping`);
    };
  }
  const ledger = new DeliveryLedger(options.onToolCall);
  const tools = createToolbox(router, options);
  serverParts.set(server, { ledger, tools, serverInfo: SERVER_INFO });

  const noop = async () => ({ content: [] });
  const runAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
  // McpServer builds tools/list (names, JSON Schemas, annotations) from these registrations; the
  // calls themselves go through the tools/call handler below.
  server.registerTool(
    'execute',
    {
      title: 'Run code',
      description:
        'Run a program on the Piston cluster and return its stdout, stderr, exit code and status. Give language (name or alias, e.g. python, js, c++), and either code (one file) or files (the first is run). Optional: version (semver range, default newest), stdin, args, run_timeout/compile_timeout/run_cpu_time/compile_cpu_time (ms) and run_memory_limit/compile_memory_limit (bytes). A program that fails (non-zero exit, compile error, time or output limit) is a normal result, not an error.',
      inputSchema: ExecuteInputSchema,
      outputSchema: EXECUTE_OUTPUT,
      annotations: { title: 'Run code', ...runAnnotations },
    },
    noop,
  );
  server.registerTool(
    'run_python_code',
    {
      title: 'Run Python code',
      description: 'Run a Python program (the newest Python on the cluster) and return its output. Kept for setups written for the original Pistom; execute does more.',
      inputSchema: RunPythonInputSchema,
      outputSchema: EXECUTE_OUTPUT,
      annotations: { title: 'Run Python code', ...runAnnotations },
    },
    noop,
  );
  server.registerTool(
    'list_runtimes',
    {
      title: 'List runtimes',
      description: 'List the languages and versions the cluster can run, with their aliases and the nodes that offer each.',
      outputSchema: RUNTIME_LIST_OUTPUT,
      annotations: { title: 'List runtimes', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    noop,
  );
  server.registerTool(
    'cluster_status',
    {
      title: 'Cluster status',
      description: 'Health, circuit breaker state, ejection (misconfigured or unresponsive, and by which pistom process), load, latency and runtimes of each Piston node, and the global queue.',
      outputSchema: CLUSTER_STATUS_OUTPUT,
      annotations: { title: 'Cluster status', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    noop,
  );

  // pistom's own tools/call: McpServer's would refuse a task handle (it checks every result
  // against the tool's output schema), and pistom's results are built to their schemas already.
  server.server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args } = request.params;
    const tool = Object.hasOwn(tools, name) ? tools[name] : undefined;
    if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown tool "${name}"; this server has ${Object.keys(tools).join(', ')} (tools/list describes them)`);
    const parsed = tool.input.safeParse(args ?? {});
    if (!parsed.success) return { isError: true, content: [{ type: 'text', text: describeInvalidArguments(name, parsed.error) }] };
    const scope = { id: ctx.mcpReq.id, onProgress: progressReporter(ctx), client: callerKey(ctx) };
    if (tasks && tool.taskSupport && negotiatedTasks(ctx)) {
      // A task's result goes to the task store, not to this answer: counted as it ends.
      const account = (tool: string, outcome: string, seconds: number) => options.onToolCall?.(tool, outcome, seconds);
      const record = await tasks.start((signal) => tool.run(parsed.data, { ...scope, signal, account }) as Promise<Record<string, unknown>>, taskOwner(ctx));
      if (record) return createTaskResult(record, tasks.options.pollIntervalMs) as unknown as CallToolResult;
    }
    ledger.begin(ctx.mcpReq.id);
    return tool.run(parsed.data, { ...scope, signal: ctx.mcpReq.signal, account: (tool, outcome, seconds) => ledger.answered(ctx.mcpReq.id, tool, outcome, seconds) });
  });

  if (tasks) registerTaskMethods(server, tasks);

  server.registerResource(
    'cluster-status',
    STATUS_RESOURCE_URI,
    { title: 'Cluster status', description: 'The same view as the cluster_status tool.', mimeType: 'application/json' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(router.status(), null, 2) }] }),
  );

  return server;
}

/** Each node's state in a few words, for an empty runtime list. */
function whyNoRuntimes(router: Router): string {
  return router
    .status()
    .nodes.map((node) => `${node.name}: ${node.ejected ? `${node.ejected.reason}: ${node.ejected.detail}` : node.last_error ? node.last_error.message : node.health}`)
    .join('; ');
}
