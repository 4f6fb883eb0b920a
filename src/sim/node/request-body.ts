/**
 * Reads a request body the way Piston's express stack does: only JSON and urlencoded bodies are
 * read (others are drained and seen as `{}`), at most 100 KB, JSON parsed strictly.
 */
import type { IncomingMessage } from 'node:http';
import { PISTON_DEFAULT_CAPS } from '../../piston/limits.js';
import { PAYLOAD_TOO_LARGE_BODY, parseJsonBody } from './body-errors.js';

export type BodyOutcome =
  /** `raw` is the body's text ('' when it was not read), `value` what the routes see. */
  | { ok: true; raw: string; value: unknown }
  | { ok: false; raw: string; body: string };

const MAX_BODY_BYTES = PISTON_DEFAULT_CAPS.max_body_bytes;

/** Calls `done` once, with the body or the 400 body Piston answers; a broken request drops the socket. */
export function readBody(req: IncomingMessage, done: (outcome: BodyOutcome) => void): void {
  const mediaType = req.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json' && mediaType !== 'application/x-www-form-urlencoded') {
    req.resume();
    done({ ok: true, raw: '', value: {} });
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    req.resume();
    done({ ok: false, raw: '', body: PAYLOAD_TOO_LARGE_BODY });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      failed = true;
      done({ ok: false, raw: '', body: PAYLOAD_TOO_LARGE_BODY });
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    const raw = Buffer.concat(chunks, size).toString('utf8');
    if (mediaType !== 'application/json') {
      done({ ok: true, raw, value: {} });
      return;
    }
    const result = parseJsonBody(raw);
    done(result.ok ? { ok: true, raw, value: result.value } : { ok: false, raw, body: result.body });
  });
  req.on('error', () => req.socket?.destroy());
}
