/**
 * Route resolution, pure: from the merged runtime catalog and a checked request to the runtime
 * (language and version), the request body, its fingerprint, and the nodes that may take it
 * (they offer exactly that runtime and their caps allow the request).
 */
import type { NodeCaps } from '../config/schema.js';
import { isNewestRange, RuntimeCatalog, type CatalogEntry, type VersionRanges } from '../cluster/catalog.js';
import { requestFingerprint } from '../cluster/poison.js';
import { CallError } from '../errors.js';
import { buildBody, capViolation, type PreparedRequest } from '../request/prepare.js';

export interface Route {
  language: string;
  version: string;
  body: string;
  /** Identifies the request body (a hash, computed only when needed: a poison check or a suspect fault). */
  fingerprint: () => string;
  /** Nodes that offer the runtime and whose caps allow the request, in catalog order. */
  candidates: string[];
}

/** semver, for a version range (only then: most calls ask for the newest version). */
export async function versionRangesFor(version: string | undefined): Promise<VersionRanges | undefined> {
  return isNewestRange(version) ? undefined : (await import('semver')).default;
}

export function resolveRoute(entries: CatalogEntry[], prepared: PreparedRequest, language: string, version: string | undefined, capsOf: (node: string) => NodeCaps | undefined, ranges?: VersionRanges): Route {
  const resolution = RuntimeCatalog.resolve(entries, language, version, ranges);
  if (!resolution.ok) throw resolutionError(resolution, language);
  const choice = resolution.choice;
  const body = buildBody(prepared, choice.language, choice.version);
  const bodyBytes = Buffer.byteLength(body);
  const candidates: string[] = [];
  let refusal: { limit: string; value: number; cap: number } | undefined;
  for (const name of choice.nodes) {
    const caps = capsOf(name);
    if (!caps) continue;
    const violation = capViolation(prepared, bodyBytes, caps);
    if (!violation) candidates.push(name);
    else if (!refusal || violation.cap > refusal.cap) refusal = violation;
  }
  if (candidates.length === 0 && refusal) {
    if (refusal.limit === 'body size') {
      throw new CallError('request_error', 'body_too_large', `the request body is ${refusal.value} bytes; the largest any node accepts is ${refusal.cap} bytes (Piston's limit is 100 KiB by default): send less code or data`);
    }
    throw new CallError('request_error', 'limit_over_cap', `${refusal.limit} ${refusal.value} is over every node's cap; the largest cap for ${choice.language}-${choice.version} is ${refusal.cap}`);
  }
  let fingerprint: string | undefined;
  return { language: choice.language, version: choice.version, body, fingerprint: () => (fingerprint ??= requestFingerprint(body)), candidates };
}

function resolutionError(resolution: Exclude<ReturnType<typeof RuntimeCatalog.resolve>, { ok: true }>, language: string): CallError {
  switch (resolution.reason) {
    case 'unknown_language': {
      const close = resolution.suggestions.length > 0 ? ` Did you mean ${resolution.suggestions.map((s) => `"${s}"`).join(', ')}?` : '';
      const offered = resolution.languages.length <= 12 ? ` The cluster offers: ${resolution.languages.join(', ')}.` : ` The cluster offers ${resolution.languages.length} languages.`;
      return new CallError('request_error', 'unknown_language', `unknown language "${language}".${close}${offered} Call list_runtimes to see every language, version and alias.`);
    }
    case 'unknown_version':
      return new CallError('request_error', 'unknown_version', `no node offers ${resolution.language} in a version matching "${resolution.range}"; versions on the cluster: ${resolution.versions.slice(0, 20).join(', ')}. Use "*" for the newest.`);
    case 'invalid_version':
      return new CallError('request_error', 'invalid_version', `version "${resolution.version}" is not a semver range; use e.g. "3", "3.x", "^3.10", "3.11.2" or "*" for the newest`);
  }
}
