/** Small helpers to answer HTTP requests with JSON and JSON-RPC errors. */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../../util/http.js';
import { RPC } from '../protocol.js';
import type { JsonRpcId } from './jsonrpc.js';

export { RPC };
export { idOf, type JsonRpcId } from './jsonrpc.js';

/** A JSON-RPC error answer; `id` is the request's when it is known, so the client can match it. */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}, id: JsonRpcId = null, data?: unknown): void {
  sendJson(res, status, { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined ? { data } : {}) } }, headers);
}

/**
 * HTTP statuses for errors the 2026-07-28 transport binding ties to a status (a request refused
 * before any handler ran); every other JSON-RPC error travels with 200.
 */
const MODERN_ERROR_STATUS: Record<number, number> = {
  [RPC.parseError]: 400,
  [RPC.invalidRequest]: 400,
  [RPC.methodNotFound]: 404,
  [RPC.unsupportedProtocolVersion]: 400,
  [RPC.missingClientCapability]: 400,
  [RPC.headerMismatch]: 400,
};

/** The status for a modern-era error answer: `early` errors come from the dispatch gates, not a handler. */
export function modernErrorStatus(code: number, early: boolean): number {
  if (code === RPC.missingClientCapability) return 400;
  return early ? (MODERN_ERROR_STATUS[code] ?? 200) : 200;
}
