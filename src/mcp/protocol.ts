/**
 * The MCP revisions pistom speaks and how a request says which one it uses. Two eras share one
 * set of tools: 2026-07-28 (stateless: no initialize, a `_meta` envelope on every request,
 * `server/discover`) and the 2025 revisions (an initialize handshake, optionally sessions).
 */
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY, SERVER_INFO_META_KEY } from '@modelcontextprotocol/server';

export type Era = 'modern' | 'legacy';

/** Revisions of the stateless era, newest first. */
export const MODERN_VERSIONS = ['2026-07-28'] as const;
/** Revisions negotiated with initialize, newest first. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export const SUPPORTED_VERSIONS: string[] = [...MODERN_VERSIONS, ...LEGACY_VERSIONS];

export const LATEST_MODERN_VERSION = MODERN_VERSIONS[0];

/** The tasks extension's identifier (SEP-2663), declared under `capabilities.extensions`. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY, SERVER_INFO_META_KEY };

/** JSON-RPC error codes pistom answers with outside of the SDK's own. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  serverError: -32000,
  requestCancelled: -32800,
  headerMismatch: -32020,
  missingClientCapability: -32021,
  unsupportedProtocolVersion: -32022,
} as const;
