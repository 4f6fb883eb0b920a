/** What the MCP targets share: calling pistom's tools through the SDK's Client and classifying the answers. */
import { Client, ProtocolError, SdkError, SdkErrorCode, SdkHttpError, type Transport } from '@modelcontextprotocol/client';
import { StageResult } from '../../piston/types.js';
import { classifyHttpStatus, classifyPistonResult, type Outcome, type OutcomeClass } from '../outcome.js';
import { classifyThrown, errorMessage } from './errors.js';
import type { BenchRequest, RuntimeInfo, Target } from './target.js';

const PISTOM_ERROR_CLASSES: Record<string, OutcomeClass> = {
  request_error: 'client_error',
  overload: 'overload',
  node_fault: 'node_fault',
  cancelled: 'cancelled',
};

interface CallToolResultLike {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
  content?: unknown;
}

export interface McpTargetParts {
  kind: 'mcp-http' | 'mcp-stdio';
  endpoints: string[];
  transport: Transport;
  timeoutMs: number;
  /** Extra context for failures to connect (e.g. the child's stderr). */
  describeFailure?: () => string;
  closeExtra?: () => Promise<void>;
}

export function createMcpTarget(parts: McpTargetParts): Target {
  const client = new Client({ name: 'pistom-bench', version: '0.1.0' }, { capabilities: {} });
  // The SDK's own timeout only backs up ours, which aborts the call via the signal.
  const sdkTimeout = parts.timeoutMs + 5_000;

  return {
    kind: parts.kind,
    endpoints: parts.endpoints,
    async connect(signal) {
      try {
        await client.connect(parts.transport, { signal, timeout: sdkTimeout });
      } catch (error) {
        const extra = parts.describeFailure?.() ?? '';
        // The caller already says what it was connecting to.
        throw new Error(`${errorMessage(error)}${extra}`, { cause: error });
      }
    },
    async runtimes(signal) {
      const result = (await client.callTool({ name: 'list_runtimes', arguments: {} }, {
        signal,
        timeout: sdkTimeout,
      })) as CallToolResultLike;
      const list = (result.structuredContent ?? parseTextContent(result))?.runtimes;
      if (result.isError || !Array.isArray(list)) throw new Error('list_runtimes returned no runtime list');
      return list.filter(isRuntimeInfo).map(({ language, version, aliases }) => ({ language, version, aliases }));
    },
    async execute(request: BenchRequest, signal: AbortSignal): Promise<Outcome> {
      try {
        const result = (await client.callTool({ name: 'execute', arguments: toolArguments(request) }, {
          signal,
          timeout: sdkTimeout,
        })) as CallToolResultLike;
        return classifyToolResult(result);
      } catch (error) {
        return classifyMcpThrown(error, signal);
      }
    },
    async close() {
      await client.close().catch(() => undefined);
      await parts.closeExtra?.();
    },
  };
}

function toolArguments(request: BenchRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
}

function classifyToolResult(result: CallToolResultLike): Outcome {
  const structured = result.structuredContent ?? parseTextContent(result);
  if (result.isError) {
    // pistom puts its error in _meta['pistom/error'] (structuredContent is kept for successful runs).
    const error = (result._meta?.['pistom/error'] ?? structured?.error) as { class?: unknown; code?: unknown; message?: unknown } | undefined;
    if (!error || typeof error.class !== 'string') {
      return { class: 'client_error', code: 'INVALID_INPUT', message: textOf(result) };
    }
    return {
      class: PISTOM_ERROR_CLASSES[error.class] ?? 'client_error',
      code: typeof error.code === 'string' ? error.code : error.class,
      ...(typeof error.message === 'string' ? { message: error.message.slice(0, 300) } : {}),
    };
  }
  const run = StageResult.safeParse(structured?.run);
  if (!structured || !run.success) {
    return { class: 'transport_error', code: 'UNSTRUCTURED', message: 'execute result without run stage' };
  }
  const compile = StageResult.safeParse(structured.compile);
  const outcome = classifyPistonResult({ run: run.data, ...(compile.success ? { compile: compile.data } : {}) });
  return {
    ...outcome,
    ...(typeof structured.node === 'string' ? { node: structured.node } : {}),
    ...(typeof structured.queued_ms === 'number' ? { queuedMs: structured.queued_ms } : {}),
  };
}

function classifyMcpThrown(error: unknown, signal: AbortSignal): Outcome {
  if (signal.aborted) return classifyThrown(error, signal, false);
  if (error instanceof SdkHttpError) {
    return { class: classifyHttpStatus(error.status), code: `HTTP ${error.status}`, message: errorMessage(error) };
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) return { class: 'timeout', code: `MCP ${error.code}`, message: errorMessage(error) };
  if (error instanceof ProtocolError) return { class: 'client_error', code: `MCP ${error.code}`, message: errorMessage(error) };
  return classifyThrown(error, signal, false);
}

function parseTextContent(result: CallToolResultLike): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(textOf(result));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function textOf(result: CallToolResultLike): string {
  if (!Array.isArray(result.content)) return '';
  return result.content
    .map((part: { type?: unknown; text?: unknown }) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('')
    .slice(0, 2000);
}

function isRuntimeInfo(value: unknown): value is RuntimeInfo {
  const r = value as Partial<RuntimeInfo> | null;
  return !!r && typeof r.language === 'string' && typeof r.version === 'string' && Array.isArray(r.aliases);
}
