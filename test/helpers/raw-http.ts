/** A raw HTTP request over node:http, so tests can send any Host, Origin or body (fetch forbids some). */
import { request } from 'node:http';

/** A parsed JSON answer, typed loosely: tests dig into answers of any shape and assert on them. */
export type LooseJson = any;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): LooseJson;
}

export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return abortableRequest(url, options).response;
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export function rpc(method: string, params: Record<string, unknown> = {}, id: number | string = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

/** The 2026-07-28 per-request envelope, as a raw client puts it in params._meta. */
export function modernMeta(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '0.0.0' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
}

/** A 2026-07-28 request: the body with its envelope, and the standard headers that mirror it. */
export function modernRpc(method: string, params: Record<string, unknown> = {}, id: number | string = 1, capabilities: Record<string, unknown> = {}): { headers: Record<string, string>; body: string } {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : typeof params.taskId === 'string' ? params.taskId : undefined;
  const { _meta: extraMeta, ...rest } = params as { _meta?: Record<string, unknown> };
  return {
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name !== undefined ? { 'mcp-name': name } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...rest, _meta: { ...modernMeta(capabilities), ...extraMeta } } }),
  };
}

/** The JSON-RPC messages of an answer, whether it came as JSON or as an SSE stream. */
export function messagesOf(response: RawResponse): LooseJson[] {
  const type = String(response.headers['content-type'] ?? '');
  if (type.startsWith('text/event-stream')) {
    return response.text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)));
  }
  const body = response.json();
  return Array.isArray(body) ? body : [body];
}

interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  localAddress?: string;
}

/** A request that can be abandoned: `abort()` closes its connection, which is how an HTTP client cancels. */
export function abortableRequest(url: string, options: RawRequestOptions = {}): { response: Promise<RawResponse>; abort(): void } {
  let destroy: () => void = () => undefined;
  const response = new Promise<RawResponse>((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers, agent: false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    destroy = () => req.destroy();
    req.end(options.body);
  });
  return { response, abort: () => destroy() };
}
