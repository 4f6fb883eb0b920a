/**
 * Who sent a request, as the MCP layer sees it. The HTTP front names every caller (guards.ts
 * clientKeyOf) and hands the key in through the SDK's authInfo, the one per-request field a
 * transport can set; `authenticated` says whether the key stands for a proven token or only for
 * an address. Over stdio the connection is the caller, and there is no key.
 */
import type { AuthInfo, ServerContext } from '@modelcontextprotocol/server';

export function callerAuthInfo(clientKey: string, authenticated: boolean): AuthInfo {
  return { token: '', clientId: clientKey, scopes: [], extra: { authenticated } };
}

/** The caller's key, for its share of the queue. */
export function callerKey(ctx: Pick<ServerContext, 'http'>): string | undefined {
  return ctx.http?.authInfo?.clientId;
}

/** The caller's key when it proved a token: what owns tasks (an address proves nothing). */
export function authenticatedCaller(ctx: Pick<ServerContext, 'http'>): string | undefined {
  const info = ctx.http?.authInfo;
  return info?.extra?.authenticated === true ? info.clientId : undefined;
}
