/**
 * Turns a validated `execute` input into the Piston request body, checking what Piston would get
 * wrong or let through: file names that escape the job folder (Piston answers 500), a missing
 * utf8 file, and the body size. Limits are checked per node against its caps by `fitsCaps`.
 */
import { posix } from 'node:path';
import { LIMIT_NAMES } from '../piston/limits.js';
import type { PistonExecuteRequest } from '../piston/types.js';
import type { NodeCaps } from '../config/schema.js';
import type { ExecuteInput } from './schema.js';

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface PreparedRequest {
  /** The Piston body without language/version (they are resolved per cluster). */
  base: Omit<PistonExecuteRequest, 'language' | 'version'>;
}

function checkFileName(name: string, index: number): void {
  const where = `files[${index}].name`;
  if (name.length === 0) throw new InvalidRequestError(`${where} must not be empty; leave it out for a default name`, 'invalid_file_name');
  if (name.includes('\0')) throw new InvalidRequestError(`${where} must not contain NUL characters`, 'invalid_file_name');
  if (name.includes('\\')) throw new InvalidRequestError(`${where} must use "/" as the folder separator, not "\\"`, 'invalid_file_name');
  if (name.startsWith('/')) throw new InvalidRequestError(`${where} "${name}" is absolute; file names must be relative to the job folder, e.g. "main.py" or "src/util.py"`, 'invalid_file_name');
  const normalized = posix.normalize(name);
  // Piston refuses (HTTP 500) any name whose path relative to the job folder starts with "..":
  // "../x" and "a/../../x" (outside the folder) but also "..x" and "..." (inside, yet refused).
  // "a/../main.py" is main.py inside the folder, and runs.
  if (normalized.startsWith('..')) {
    const escapes = normalized === '..' || normalized.startsWith('../');
    throw new InvalidRequestError(
      escapes
        ? `${where} "${name}" climbs out of the job folder; use a path inside it, e.g. "src/util.py"`
        : `${where} "${name}" starts with "..", which Piston refuses (HTTP 500) even inside the job folder; rename it, e.g. "x${normalized.slice(2)}"`,
      'invalid_file_name',
    );
  }
  if (normalized === '.' || name.endsWith('/')) throw new InvalidRequestError(`${where} "${name}" names a folder, not a file`, 'invalid_file_name');
}

export function prepareRequest(input: ExecuteInput): PreparedRequest {
  if (input.code !== undefined && input.files !== undefined) {
    throw new InvalidRequestError('give either code (one file) or files (several), not both', 'code_and_files');
  }
  if (input.code === undefined && input.files === undefined) {
    throw new InvalidRequestError('nothing to run: give code (a string) or files ([{name?, content}])', 'no_code');
  }
  const files = input.files ?? [{ content: input.code! }];
  const names = new Set<string>();
  files.forEach((file, index) => {
    if (file.name === undefined) return;
    checkFileName(file.name, index);
    const key = posix.normalize(file.name);
    if (names.has(key)) throw new InvalidRequestError(`files[${index}].name "${file.name}" is used twice`, 'duplicate_file_name');
    names.add(key);
  });
  if (!files.some((file) => (file.encoding ?? 'utf8') === 'utf8')) {
    throw new InvalidRequestError('at least one file must be utf8 encoded (the first utf8 file is the program)', 'no_utf8_file');
  }
  const base: PreparedRequest['base'] = {
    files: files.map((file) => ({ ...(file.name !== undefined ? { name: file.name } : {}), content: file.content, ...(file.encoding ? { encoding: file.encoding } : {}) })),
  };
  if (input.stdin !== undefined) base.stdin = input.stdin;
  if (input.args !== undefined) base.args = input.args;
  for (const name of LIMIT_NAMES) if (input[name] !== undefined) base[name] = input[name];
  return { base };
}

export function buildBody(prepared: PreparedRequest, language: string, version: string): string {
  return JSON.stringify({ language, version, ...prepared.base });
}

/** Names the first limit of the request that this node's caps refuse, or undefined if it fits. */
export function capViolation(prepared: PreparedRequest, bodyBytes: number, caps: NodeCaps): { limit: string; value: number; cap: number } | undefined {
  for (const name of LIMIT_NAMES) {
    const value = prepared.base[name];
    const cap = caps[name];
    if (value !== undefined && cap >= 0 && value > cap) return { limit: name, value, cap };
  }
  if (bodyBytes > caps.max_body_bytes) return { limit: 'body size', value: bodyBytes, cap: caps.max_body_bytes };
  return undefined;
}
