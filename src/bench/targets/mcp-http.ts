/** pistom over Streamable HTTP, through the SDK's transport with a dedicated undici Agent. */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Agent, fetch as undiciFetch } from 'undici';
import { displayUrl } from '../../util/redact.js';
import { createMcpTarget } from './mcp-client.js';
import type { Target, TargetContext } from './target.js';

export function createMcpHttpTarget(url: string, context: TargetContext): Target {
  const agent = new Agent({
    connections: Math.max(1, context.maxConcurrent),
    headersTimeout: context.timeoutMs + 1000,
    bodyTimeout: context.timeoutMs + 1000,
  });
  const fetchWithAgent = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: context.headers },
    fetch: fetchWithAgent,
  });
  return createMcpTarget({
    kind: 'mcp-http',
    endpoints: [displayUrl(url)],
    transport,
    timeoutMs: context.timeoutMs,
    closeExtra: () => agent.close().catch(() => undefined),
  });
}
