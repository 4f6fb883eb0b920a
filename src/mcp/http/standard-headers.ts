/**
 * The 2026-07-28 standard request headers (SEP-2243) on a request the SDK's classifier already
 * routed to the modern era: MCP-Protocol-Version and Mcp-Method must be present, and Mcp-Name must
 * mirror the body's name, uri or taskId. (The classifier checks the headers that are present
 * against the body; presence is the entry's job.) A failure is -32020 with HTTP 400.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RPC } from '../protocol.js';
import { headerValue } from '../../util/http.js';

/** Which body field Mcp-Name mirrors, per method. */
const NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An Mcp-Name value as sent: plain, or `=?base64?...?=` for values that are not plain ASCII; undefined if the encoding is broken. */
function decodeName(value: string): string | undefined {
  if (!(value.startsWith(BASE64_PREFIX) && value.endsWith(BASE64_SUFFIX))) return value;
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

export interface HeaderProblem {
  code: number;
  message: string;
  data: { mismatch: { header: string; body: string } };
}

function mismatch(header: string, body: string): HeaderProblem {
  return { code: RPC.headerMismatch, message: `Bad Request: the request headers and body disagree: ${body}`, data: { mismatch: { header, body } } };
}

/** The problem with a modern request's standard headers, or undefined when they are right. */
export function standardHeaderProblem(headers: IncomingHttpHeaders, method: string, params: unknown): HeaderProblem | undefined {
  if (headerValue(headers, 'mcp-protocol-version') === undefined) return mismatch('(missing)', 'the body carries a per-request _meta envelope but the required MCP-Protocol-Version header is absent');
  if (headerValue(headers, 'mcp-method') === undefined) return mismatch('(missing)', `the body names method ${method} but the required Mcp-Method header is absent`);
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method]! : undefined;
  if (field === undefined) return undefined;
  const raw = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[field] : undefined;
  const bodyValue = typeof raw === 'string' ? raw : undefined;
  const nameHeader = headerValue(headers, 'mcp-name');
  if (nameHeader === undefined) return bodyValue === undefined ? undefined : mismatch('(missing)', `the body carries params.${field}="${bodyValue}" but the required Mcp-Name header is absent`);
  const trimmed = nameHeader.trim();
  const decoded = decodeName(trimmed);
  if (decoded === undefined) return mismatch(trimmed, 'the Mcp-Name header carries an invalid Base64 sentinel value');
  if (bodyValue !== undefined && decoded !== bodyValue) return mismatch(trimmed, `the body carries params.${field}="${bodyValue}" but the Mcp-Name header names "${decoded}"`);
  return undefined;
}
