/**
 * The hot path of stateless HTTP: a plain `tools/call` of one of pistom's tools, answered without
 * the SDK's per-message machinery (which re-classifies the message, validates the request and the
 * result against the era's schemas and builds a context per call: about a tenth of a call's work,
 * measured in docs/bench.md). The tool itself runs exactly as on the SDK's path (createToolbox),
 * and its input is validated by the same schema.
 *
 * `tools/list` is answered here too, once the SDK has answered it once on this era: pistom's tool
 * list never changes (listChanged: false), and building it (JSON Schemas from zod) is the costliest
 * thing a client can ask for, so a flood of tools/list would otherwise take the CPU from everyone.
 *
 * Only the plainest calls qualify; anything else goes the SDK's way, which stays the reference:
 * progress tokens, task negotiation, log levels, multi-round-trip fields, unknown tools, params of
 * an unusual shape, and 2026-07-28 envelopes other than a protocol version, a client name and
 * version, and capabilities that are all empty objects (the shape every such envelope the SDK
 * accepts; test/integration/fast-path.test.ts checks that both paths answer alike).
 */
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LATEST_MODERN_VERSION, LEGACY_VERSIONS, PROTOCOL_VERSION_META_KEY, RPC, SERVER_INFO_META_KEY, type Era } from '../protocol.js';
import { describeInvalidArguments, type ServerParts, type ToolEntry } from '../server.js';
import type { ExchangeSink } from './mux-transport.js';
import { isObject } from './jsonrpc.js';

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key in value) if (!allowed.includes(key)) return false;
  return true;
}

const PARAM_KEYS = ['name', 'arguments', '_meta'];
const REQUEST_KEYS = ['jsonrpc', 'id', 'method', 'params'];
const MODERN_META_KEYS = [PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY];

/** A client name and version and nothing else, as strings. */
function plainClientInfo(value: unknown): boolean {
  return value === undefined || (isObject(value) && typeof value.name === 'string' && typeof value.version === 'string' && onlyKeys(value, ['name', 'version']));
}

/** Capabilities that are all empty objects: every schema the SDK has accepts them, and none asks for tasks. */
function plainCapabilities(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const key in value) {
    const capability = value[key];
    if (!isObject(capability) || Object.keys(capability).length > 0) return false;
  }
  return true;
}

export class FastToolCalls {
  private next = 0;
  /** The SDK's answer to a plain tools/list on this era, once it has given one. */
  private toolList: Record<string, unknown> | undefined;

  /** Calls answered on this path so far. */
  get taken(): number {
    return this.next;
  }

  constructor(
    private readonly parts: ServerParts,
    private readonly era: Era,
  ) {}

  /**
   * True when `body` is one request that the SDK's classifier would route to the 2025 era as it is
   * (no envelope claim, no modern version header) and that takes the fast path: the classifier, three
   * schema checks, is then skipped. Only the legacy era's calls can be recognised this cheaply.
   */
  plainLegacyCall(body: unknown, versionHeader: string | undefined): boolean {
    if (this.era !== 'legacy' || !isObject(body) || !onlyKeys(body, REQUEST_KEYS)) return false;
    if (body.jsonrpc !== '2.0' || !(typeof body.id === 'string' || Number.isSafeInteger(body.id))) return false;
    if (versionHeader !== undefined && !(LEGACY_VERSIONS as readonly string[]).includes(versionHeader.trim())) return false;
    return this.match(body as JSONRPCMessage & { method: string }) !== undefined;
  }

  /** The tool `message` calls, when the call may take the fast path. */
  match(message: JSONRPCMessage & { method: string }): ToolEntry | undefined {
    if (message.method !== 'tools/call') return undefined;
    const params = (message as { params?: unknown }).params;
    if (!isObject(params) || typeof params.name !== 'string' || !onlyKeys(params, PARAM_KEYS)) return undefined;
    if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;
    if (!this.plainMeta(params._meta)) return undefined;
    return Object.hasOwn(this.parts.tools, params.name) ? this.parts.tools[params.name] : undefined;
  }

  /** On 2025 no _meta at all; on 2026-07-28 the plainest envelope. */
  private plainMeta(meta: unknown): boolean {
    if (this.era === 'legacy') return meta === undefined;
    if (!isObject(meta) || !onlyKeys(meta, MODERN_META_KEYS)) return false;
    return meta[PROTOCOL_VERSION_META_KEY] === LATEST_MODERN_VERSION && plainCapabilities(meta[CLIENT_CAPABILITIES_META_KEY]) && plainClientInfo(meta[CLIENT_INFO_META_KEY]);
  }

  /** True for a tools/list without a cursor or anything else (the one whose answer is kept). */
  isPlainToolList(message: JSONRPCMessage & { method: string }): boolean {
    if (message.method !== 'tools/list') return false;
    const params = (message as { params?: unknown }).params;
    if (params === undefined) return this.era === 'legacy';
    return isObject(params) && onlyKeys(params, ['_meta']) && this.plainMeta(params._meta);
  }

  /** Answers a plain tools/list from the kept answer; false when there is none yet (the SDK answers, and keeps() is told). */
  listTools(message: JSONRPCMessage & { id: RequestId }, sink: ExchangeSink): boolean {
    if (!this.toolList) return false;
    sink.respond({ jsonrpc: '2.0', id: message.id, result: this.toolList } as JSONRPCMessage, false);
    return true;
  }

  /** Keeps the SDK's answer to a plain tools/list. */
  readonly keepToolList = (result: Record<string, unknown>): void => {
    this.toolList ??= result;
  };

  /**
   * Runs the call and answers it into `sink` under the request's own id. The returned function
   * cancels it (the client went away or cancelled): it is then answered -32800, as on the SDK's path.
   */
  run(message: JSONRPCMessage & { id: RequestId; params?: unknown }, tool: ToolEntry, sink: ExchangeSink, client: string | undefined): (reason: string) => void {
    const { ledger } = this.parts;
    const key = `fast:${++this.next}`;
    const controller = new AbortController();
    const id = message.id;
    const params = message.params as { name: string; arguments?: Record<string, unknown> };
    let answered = false;
    const answer = (response: JSONRPCMessage, settle?: (delivered: boolean) => void) => {
      if (answered) return;
      answered = true;
      sink.respond(response, false, settle);
    };
    const parsed = tool.input.safeParse(params.arguments ?? {});
    if (!parsed.success) {
      answer({ jsonrpc: '2.0', id, result: this.encode({ isError: true, content: [{ type: 'text', text: describeInvalidArguments(params.name, parsed.error) }] }) } as JSONRPCMessage);
      return () => undefined;
    }
    ledger.begin(key);
    tool.run(parsed.data, { id: key, signal: controller.signal, client, account: (name, outcome, seconds) => ledger.answered(key, name, outcome, seconds) }).then(
      (result) => {
        if (controller.signal.aborted) return;
        answer({ jsonrpc: '2.0', id, result: this.encode(result as Record<string, unknown>) } as JSONRPCMessage, (delivered) => ledger.delivered(key, delivered));
      },
      (error: unknown) => {
        ledger.abandoned(key);
        answer({ jsonrpc: '2.0', id, error: { code: RPC.internalError, message: `Internal error: ${(error as Error)?.message ?? String(error)}` } } as JSONRPCMessage);
      },
    );
    return (reason) => {
      if (answered) return;
      controller.abort();
      ledger.abandoned(key);
      answer({ jsonrpc: '2.0', id, error: { code: RPC.requestCancelled, message: `Request cancelled: ${reason}` } } as JSONRPCMessage);
    };
  }

  /** What the SDK's encoder adds on this era: on 2026-07-28 the result type and the server's identity. */
  private encode(result: Record<string, unknown>): Record<string, unknown> {
    if (this.era === 'legacy') return result;
    const meta = isObject(result._meta) ? result._meta : undefined;
    return { ...result, resultType: 'complete', _meta: { ...meta, [SERVER_INFO_META_KEY]: this.parts.serverInfo } };
  }
}
