/**
 * Where a simulated node serves Piston's API. A self-hosted node serves `/` and `/api/v2/...` at
 * its root; the public Piston API (https://emkc.org/api/v2/piston) serves `/runtimes` and
 * `/execute` directly below a base path and nothing else. Express routing: case-insensitive,
 * one trailing slash ignored.
 */
import type { PathKind } from './faults.js';

export interface ApiLayout {
  /** Lower-cased, no trailing slash: '/api/v2' on a self-hosted node. */
  prefix: string;
  /** `GET /` answers `{"message":"Piston v3.1.1"}`. */
  root: boolean;
  /** `/packages` below the prefix is served. */
  packages: boolean;
}

export type RouteKind = 'root' | 'runtimes' | 'execute' | 'packages' | 'api' | 'none';

export interface Route {
  kind: RouteKind;
  /** What fault `paths` filters see. */
  faultPath: PathKind;
}

export const SELF_HOSTED: ApiLayout = { prefix: '/api/v2', root: true, packages: true };

/** Checks a base path like '/api/v2/piston' and returns it without a trailing slash ('/' gives ''). */
export function normalizeBasePath(raw: string): string {
  if (!raw.startsWith('/') || /[?#\s]/.test(raw) || raw.includes('//')) {
    throw new RangeError(`base path must be a URL path starting with "/" (like /api/v2/piston), without "?", "#", spaces or "//"; got "${raw}"`);
  }
  const path = raw.endsWith('/') ? raw.slice(0, -1) : raw;
  if (path.toLowerCase() === '/__sim' || path.toLowerCase().startsWith('/__sim/')) throw new RangeError(`base path must not be under /__sim (the admin API); got "${raw}"`);
  return path;
}

/** The layout for a base path (see normalizeBasePath), or the self-hosted one without. */
export function apiLayout(basePath?: string): ApiLayout {
  if (basePath === undefined) return SELF_HOSTED;
  return { prefix: normalizeBasePath(basePath).toLowerCase(), root: false, packages: false };
}

export function resolveRoute(layout: ApiLayout, path: string): Route {
  const route = (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).toLowerCase();
  const { prefix } = layout;
  if (route === `${prefix}/execute`) return { kind: 'execute', faultPath: 'execute' };
  if (route === `${prefix}/runtimes`) return { kind: 'runtimes', faultPath: 'runtimes' };
  if (layout.root && route === '/') return { kind: 'root', faultPath: 'other' };
  if (layout.packages && route === `${prefix}/packages`) return { kind: 'packages', faultPath: 'other' };
  if (route === prefix || route.startsWith(`${prefix}/`)) return { kind: 'api', faultPath: 'other' };
  return { kind: 'none', faultPath: 'other' };
}
