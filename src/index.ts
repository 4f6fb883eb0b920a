/**
 * pistom as a library (`import 'pistom'`): build the same router the CLI serves, in your own
 * process. This entry loads the router pipeline only; the simulated Piston node is `pistom/sim`
 * (src/sim/index.ts) and the load generator `pistom/bench` (src/bench/index.ts).
 */
export { createPistom, type Pistom, type PistomOptions } from './app.js';
export { loadConfig, parseConfig, ConfigError, type ConfigOverrides } from './config/load.js';
export { ConfigSchema, type Config, type ConfigInput, type NodeConfig, type ResolvedConfig } from './config/schema.js';
export { configJsonSchema } from './config/json-schema.js';
export { CallError, type CallErrorClass } from './errors.js';
export { Router, type CallContext, type ProgressUpdate } from './router.js';
export { ExecuteInputSchema, ExecuteOutputSchema, type ExecuteInput, type ExecuteOutput } from './request/schema.js';
export { createMcpServer, ERROR_META_KEY, STATUS_RESOURCE_URI } from './mcp/server.js';
export { PistomHttpServer, type HttpServerOptions } from './mcp/http/server.js';
export { serveStdio, StdioLineTransport, type StdioConnection } from './mcp/stdio.js';
export { MODERN_VERSIONS, LEGACY_VERSIONS, SUPPORTED_VERSIONS, TASKS_EXTENSION, type Era } from './mcp/protocol.js';
export { MemoryTaskStore, type TaskStore, type TaskRecord, type TaskStatus, type TaskOutcome } from './mcp/tasks/store.js';
export { TaskService } from './mcp/tasks/service.js';
export { createMetrics, type Metrics } from './metrics.js';
export { PistonClient } from './piston/client.js';
export { DECISIONS, decide, type AttemptOutcome, type NodeFault, type FaultReason, type Decision } from './piston/outcome.js';
export * from './piston/types.js';
