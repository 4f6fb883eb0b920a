/**
 * What a faulty node sends: the answers of request-stage faults (struck once the request has been
 * read, without taking a job slot) and the padding of the `huge` fault.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StageResult } from '../../piston/types.js';
import type { SimFault } from './faults.js';

export const JSON_TYPE = 'application/json; charset=utf-8';
const GARBAGE_BODY = '<html><body>pistom-sim garbage: this is not JSON {]';

export interface FaultTarget {
  req: IncomingMessage;
  res: ServerResponse;
  /** A well-formed answer for the request's path, for the faults that cut one short. */
  sample: string;
  /** Keeps the request open until the node stops. */
  hang(res: ServerResponse): void;
}

/** Answers a request with a request-stage fault (hang, status, reset, garbage, truncated, reflect). */
export function answerWithFault({ req, res, sample, hang }: FaultTarget, fault: SimFault): void {
  switch (fault.kind) {
    case 'hang':
      hang(res);
      return;
    case 'status': {
      const body = fault.body ?? '';
      const isJson = body.trimStart().startsWith('{') || body.trimStart().startsWith('[');
      // any server may answer this (a proxy's 502 as well as Piston's 500): no Express header
      writeAll(res, fault.status, isJson ? JSON_TYPE : 'text/plain; charset=utf-8', body, false);
      return;
    }
    case 'reset': {
      const bytes = Buffer.from(sample);
      res.writeHead(200, { 'x-powered-by': 'Express', 'content-type': JSON_TYPE, 'content-length': bytes.length });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
      return;
    }
    case 'garbage':
      writeAll(res, 200, JSON_TYPE, GARBAGE_BODY);
      return;
    case 'truncated':
      writeAll(res, 200, JSON_TYPE, sample.slice(0, Math.max(1, Math.floor(sample.length / 2))));
      return;
    case 'reflect':
      writeAll(res, 400, JSON_TYPE, JSON.stringify({ message: reflectedHeaders(req) }));
      return;
    default:
      writeAll(res, 500, null, '');
  }
}

/** A hostile node's error text: every request header verbatim, secrets included. */
export function reflectedHeaders(req: IncomingMessage): string {
  const lines: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `bad request; you sent ${req.method ?? 'GET'} ${req.url ?? '/'} with ${lines.join('; ')}`;
}

/** A valid answer of about `bytes` bytes: an execute answer's stdout grows, anything else gets trailing whitespace. */
export function padToSize(body: string, bytes: number, executeAnswer: boolean): string {
  const missing = bytes - Buffer.byteLength(body);
  if (missing <= 0) return body;
  if (executeAnswer) {
    const answer = JSON.parse(body) as { run: StageResult };
    const half = Math.floor(missing / 2);
    answer.run.stdout += 'x'.repeat(half);
    answer.run.output += 'x'.repeat(missing - half);
    return JSON.stringify(answer);
  }
  return body + ' '.repeat(missing);
}

function writeAll(res: ServerResponse, status: number, contentType: string | null, body: string, express = true): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { ...(express ? { 'x-powered-by': 'Express' } : {}), ...(contentType ? { 'content-type': contentType } : {}), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
