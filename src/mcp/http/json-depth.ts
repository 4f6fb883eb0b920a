/**
 * A bound on how deeply a JSON text nests, checked on the raw text before it is parsed: deep
 * nesting costs nothing to send but can exhaust the stack of code that walks the parsed value
 * recursively (schema validation, JSON.stringify of errors). MCP messages nest a handful of levels.
 */
import { idOf, type JsonRpcId } from './jsonrpc.js';

/** The first depth over `maxDepth` found in `text`, or undefined if the text stays within it. */
export function jsonDepthOver(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return depth;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return undefined;
}

/**
 * The id of the JSON-RPC request in `text` (a single request), so that a refusal can name it; null
 * when there is none. JSON.parse itself copes with any depth: only walking the result recursively
 * does not.
 */
export function requestIdOf(text: string): JsonRpcId {
  try {
    return idOf(JSON.parse(text));
  } catch {
    return null;
  }
}
