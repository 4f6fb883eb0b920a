/**
 * Checks every /mcp request passes before the MCP layer sees it: Host and Origin (against DNS
 * rebinding), and bearer tokens compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  return host.split(':')[0]!.toLowerCase();
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
    this.hosts = new Set([...LOOPBACK_NAMES, ...options.allowedHosts.map((h) => h.toLowerCase())]);
    if (!LOOPBACK_NAMES.has(options.bindHost) && options.bindHost !== '0.0.0.0' && options.bindHost !== '::') this.hosts.add(options.bindHost.toLowerCase());
    this.origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase()));
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
    const lower = origin.toLowerCase();
    if (this.origins.has(lower)) return true;
    try {
      return LOOPBACK_NAMES.has(new URL(lower).hostname) || LOOPBACK_NAMES.has(`[${new URL(lower).hostname}]`);
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

  /** A stable, non-secret key per caller, for per-client limits and cancellation scoping. */
  clientKey(req: IncomingMessage): string {
    const auth = req.headers.authorization;
    if (auth) return `token:${digest(auth).subarray(0, 8).toString('hex')}`;
    return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}
