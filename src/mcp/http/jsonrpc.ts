/**
 * A structural check of one JSON-RPC 2.0 message. The MCP server validates each method's params
 * itself, so the HTTP side only needs the envelope right; a zod union per message costs more
 * than the rest of a call's HTTP handling.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/server';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
}

export type JsonRpcId = string | number | null;

/** The id of a parsed single JSON-RPC message, when it has a usable one. */
export function idOf(body: unknown): JsonRpcId {
  if (!isObject(body)) return null;
  const id = body.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** What a message that fails asJsonRpcMessage is told, over HTTP and stdio. */
export const NOT_A_JSON_RPC_MESSAGE = 'not a JSON-RPC 2.0 message (needs "jsonrpc": "2.0" and a "method" string, with params an object when given and an id a string or integer when given; or a result/error with an id)';

export function asJsonRpcMessage(value: unknown): JSONRPCMessage | undefined {
  if (!isObject(value) || value.jsonrpc !== '2.0') return undefined;
  if (value.params !== undefined && !isObject(value.params)) return undefined;
  if (typeof value.method === 'string') {
    if ('id' in value && !isId(value.id)) return undefined;
    return value as JSONRPCMessage;
  }
  if (!isId(value.id)) return undefined;
  if (isObject(value.result)) return value as JSONRPCMessage;
  if (isObject(value.error) && typeof value.error.code === 'number' && typeof value.error.message === 'string') return value as JSONRPCMessage;
  return undefined;
}
