/**
 * Checks every /mcp request passes before the MCP layer sees it: Host and Origin (against DNS
 * rebinding), and bearer tokens compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

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

  check(req: IncomingMessage): GuardFailure | undefined {
    const host = req.headers.host;
    if (!host || !this.hosts.has(hostName(host))) {
      return { status: 403, message: `Host header ${host ? `"${host}"` : '(missing)'} is not allowed; add it to http.allowed_hosts` };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin)) {
      return { status: 403, message: `Origin "${origin}" is not allowed; add it to http.allowed_origins` };
    }
    if (this.authRequired && !this.tokenValid(req.headers.authorization)) {
      return { status: 401, message: 'missing or invalid bearer token', headers: { 'www-authenticate': 'Bearer realm="pistom"' } };
    }
    return undefined;
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

  private tokenValid(header: string | undefined): boolean {
    if (!header || !header.toLowerCase().startsWith('bearer ')) return false;
    const offered = digest(header.slice(7).trim());
    let ok = false;
    // Compare against every token, always, so timing says nothing about which one matched.
    for (const expected of this.tokenDigests) ok = timingSafeEqual(offered, expected) || ok;
    return ok;
  }

  /**
   * A stable, non-secret key per caller, for per-client limits and cancellation scoping. The token
   * identifies the caller only when tokens are checked: otherwise anyone could mint a fresh key
   * (and a fresh rate-limit bucket) per request by sending a made-up Authorization header.
   */
  clientKey(req: IncomingMessage): string {
    const auth = req.headers.authorization;
    if (this.authRequired && auth) return `token:${digest(auth).subarray(0, 8).toString('hex')}`;
    return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}
