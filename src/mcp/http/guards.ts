/**
 * Checks every /mcp request passes before the MCP layer sees it: Host and Origin (against DNS
 * rebinding), and bearer tokens compared in constant time. A request that passes gets its caller's
 * key (clientKeyOf): the one name per client that rate limits, queue shares, session ownership and
 * task ownership use.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { normalizedAddress } from '../../util/http.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The name part of a Host header or allow-list entry: lower case, without port or trailing dot. */
function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name.toLowerCase().replace(/\.$/, '');
}

/** An Origin as browsers send it (scheme://host[:port]); allow-list entries may carry a path or slash. */
function originOf(value: string): string {
  try {
    return new URL(value).origin.toLowerCase();
  } catch {
    return value.toLowerCase();
  }
}

export interface GuardOptions {
  allowedHosts: string[];
  allowedOrigins: string[];
  tokens: string[];
  /** The address the server is bound to: a non-loopback bind allows its own name. */
  bindHost: string;
}

export type GuardFailure = { status: 401 | 403; message: string; headers?: Record<string, string> };

/** What the guard says about a request: refused, or let in as one client. */
export type GuardVerdict = { ok: false; failure: GuardFailure } | { ok: true; clientKey: string; authenticated: boolean };

/**
 * The caller's key, and the only place it is derived. With tokens, it names the configured token the
 * request proved to hold (so every spelling of one token is one client: scheme case, spaces); without,
 * the peer address in one form (an IPv4 address and its IPv6-mapped form are one client). The key
 * holds no secret: a token appears as a short digest of itself.
 */
export function clientKeyOf(matchedTokenDigest: Buffer | undefined, remoteAddress: string | undefined): string {
  if (matchedTokenDigest) return `token:${matchedTokenDigest.subarray(0, 8).toString('hex')}`;
  return `addr:${normalizedAddress(remoteAddress)}`;
}

/** The token in an Authorization header, as validation reads it: scheme case-insensitive, spaces trimmed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header || !/^\s*bearer\s/i.test(header)) return undefined;
  const token = header.replace(/^\s*bearer\s+/i, '').trim();
  return token.length > 0 ? token : undefined;
}

export class RequestGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private readonly tokenDigests: Buffer[];

  constructor(options: GuardOptions) {
    this.hosts = new Set([...LOOPBACK_NAMES, ...options.allowedHosts.map(hostName)]);
    if (!LOOPBACK_NAMES.has(options.bindHost) && options.bindHost !== '0.0.0.0' && options.bindHost !== '::') this.hosts.add(hostName(options.bindHost.includes(':') && !options.bindHost.startsWith('[') ? `[${options.bindHost}]` : options.bindHost));
    this.origins = new Set(options.allowedOrigins.map(originOf));
    this.tokenDigests = options.tokens.map(digest);
  }

  get authRequired(): boolean {
    return this.tokenDigests.length > 0;
  }

  check(req: IncomingMessage): GuardVerdict {
    const host = req.headers.host;
    if (!host || !this.hosts.has(hostName(host))) {
      return { ok: false, failure: { status: 403, message: `Host header ${host ? `"${host}"` : '(missing)'} is not allowed; add it to http.allowed_hosts` } };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin)) {
      return { ok: false, failure: { status: 403, message: `Origin "${origin}" is not allowed; add it to http.allowed_origins` } };
    }
    if (!this.authRequired) return { ok: true, clientKey: clientKeyOf(undefined, req.socket.remoteAddress), authenticated: false };
    const matched = this.matchToken(req.headers.authorization);
    if (!matched) return { ok: false, failure: { status: 401, message: 'missing or invalid bearer token', headers: { 'www-authenticate': 'Bearer realm="pistom"' } } };
    return { ok: true, clientKey: clientKeyOf(matched, undefined), authenticated: true };
  }

  private originAllowed(origin: string): boolean {
    if (this.origins.has(originOf(origin))) return true;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_NAMES.has(url.hostname);
    } catch {
      return false;
    }
  }

  /**
   * The digest of the configured token the header proves to hold, or undefined. The key comes from
   * the configured token, never from the header's spelling; and without tokens the header is
   * ignored, so a made-up Authorization header cannot buy a fresh key (and a fresh bucket).
   */
  private matchToken(header: string | undefined): Buffer | undefined {
    const token = bearerToken(header);
    if (token === undefined) return undefined;
    const offered = digest(token);
    let matched: Buffer | undefined;
    // Compare against every token, always, so timing says nothing about which one matched.
    for (const expected of this.tokenDigests) if (timingSafeEqual(offered, expected)) matched = expected;
    return matched;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

export class HttpStartError extends Error {
  override readonly name = 'HttpStartError';
}

/** A non-loopback address without tokens is refused, unless the operator says something else authenticates. */
export function refusePublicBindWithoutAuth(http: { host: string; auth_tokens: string[]; allow_unauthenticated_public: boolean }): void {
  if (isLoopbackHost(http.host) || http.auth_tokens.length > 0 || http.allow_unauthenticated_public) return;
  throw new HttpStartError(
    `refusing to serve on ${http.host} without authentication: set auth tokens (http.auth_tokens or PISTOM_AUTH_TOKENS), bind to 127.0.0.1, or set http.allow_unauthenticated_public to true (--allow-public) if something else in front authenticates`,
  );
}
