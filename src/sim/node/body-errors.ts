/**
 * The 400 bodies Piston's express/body-parser stack answers for unreadable bodies. Piston ran on
 * Node 20, whose JSON.parse messages lack the " (line L column C)" suffix Node 22 adds, so the
 * suffix is stripped to reproduce Piston's text.
 */

const NODE_TAIL = [
  '    at invokeCallback (/piston_api/node_modules/raw-body/index.js:224:16)',
  '    at done (/piston_api/node_modules/raw-body/index.js:213:7)',
  '    at IncomingMessage.onEnd (/piston_api/node_modules/raw-body/index.js:273:7)',
  '    at IncomingMessage.emit (node:events:524:28)',
  '    at IncomingMessage.emit (node:domain:489:12)',
  '    at endReadableNT (node:internal/streams/readable:1698:12)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)',
];

const PARSE_FRAMES = [
  '    at JSON.parse (<anonymous>)',
  '    at parse (/piston_api/node_modules/body-parser/lib/types/json.js:89:19)',
  '    at /piston_api/node_modules/body-parser/lib/read.js:121:18',
  ...NODE_TAIL,
].join('\n');

const STRICT_FRAMES = [
  '    at JSON.parse (<anonymous>)',
  '    at createStrictSyntaxError (/piston_api/node_modules/body-parser/lib/types/json.js:160:10)',
  '    at parse (/piston_api/node_modules/body-parser/lib/types/json.js:83:15)',
  '    at /piston_api/node_modules/body-parser/lib/read.js:121:18',
  ...NODE_TAIL,
].join('\n');

const TOO_LARGE_FRAMES = [
  '    at readStream (/piston_api/node_modules/raw-body/index.js:155:17)',
  '    at getRawBody (/piston_api/node_modules/raw-body/index.js:108:12)',
  '    at read (/piston_api/node_modules/body-parser/lib/read.js:77:3)',
  '    at jsonParser (/piston_api/node_modules/body-parser/lib/types/json.js:135:5)',
  '    at Layer.handle [as handle_request] (/piston_api/node_modules/express/lib/router/layer.js:95:5)',
  '    at trim_prefix (/piston_api/node_modules/express/lib/router/index.js:323:13)',
  '    at /piston_api/node_modules/express/lib/router/index.js:284:7',
  '    at Function.process_params (/piston_api/node_modules/express/lib/router/index.js:341:12)',
  '    at next (/piston_api/node_modules/express/lib/router/index.js:275:10)',
  '    at urlencodedParser (/piston_api/node_modules/body-parser/lib/types/urlencoded.js:100:7)',
].join('\n');

export const PAYLOAD_TOO_LARGE_BODY = JSON.stringify({
  stack: `PayloadTooLargeError: request entity too large\n${TOO_LARGE_FRAMES}`,
});

function node20Message(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(line \d+ column \d+\)$/, '');
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * Parses a JSON body the way body-parser's json() does in strict mode: empty body is `{}`, the
 * first non-blank character must open an object or array. Returns the value, or the 400 body.
 */
export function parseJsonBody(text: string): { ok: true; value: unknown } | { ok: false; body: string } {
  if (text.length === 0) return { ok: true, value: {} };
  let i = 0;
  while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  const first = text[i];
  if (first !== '{' && first !== '[') return { ok: false, body: strictViolation(text, first) };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, body: JSON.stringify({ stack: `SyntaxError: ${node20Message(error)}\n${PARSE_FRAMES}` }) };
  }
}

/** body-parser's createStrictSyntaxError: parse '#'s in place of the text, then put the text back. */
function strictViolation(text: string, first: string | undefined): string {
  const index = first === undefined ? -1 : text.indexOf(first);
  const partial = index === -1 ? '' : text.slice(0, index) + '#'.repeat(text.length - index);
  let message = 'Unexpected end of JSON input';
  try {
    JSON.parse(partial);
  } catch (error) {
    message = node20Message(error).replace(/#+/g, (hashes) => text.slice(index, index + hashes.length));
  }
  return JSON.stringify({ stack: `SyntaxError: ${message}\n${STRICT_FRAMES}` });
}
