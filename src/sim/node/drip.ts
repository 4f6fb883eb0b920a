/**
 * The `drip` fault: the answer's status and headers at once, then its real body one byte every
 * `intervalMs`. No gap is long, so a per-gap body timeout never fires; only a total deadline ends it.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FreezeGate } from './freeze.js';

/** Starts dripping; returns a cancel function (the caller destroys the socket if it must). */
export function dripAnswer(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string, intervalMs: number, gate: FreezeGate): () => void {
  const bytes = Buffer.from(body);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const next = (): void => {
    if (res.destroyed) return cancel();
    if (sent >= bytes.length) {
      res.end();
      return;
    }
    res.write(bytes.subarray(sent, sent + 1));
    sent++;
    timer = setTimeout(() => gate.pass(next), intervalMs);
  };
  res.writeHead(status, { ...headers, 'content-length': bytes.length });
  res.flushHeaders();
  res.once('close', cancel);
  timer = setTimeout(() => gate.pass(next), intervalMs);
  return cancel;
}
