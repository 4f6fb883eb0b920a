/**
 * Builds a validated config from its three sources. Precedence, highest first:
 * command-line flags, environment (PISTOM_*), the JSON config file.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigSchema, defaultNodeName, duplicateNodeNames, type ConfigInput, type ResolvedConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigOverrides {
  configFile?: string;
  backends?: string[];
  http?: { host: string; port: number };
  stateful?: boolean;
  logLevel?: string;
}

export type Env = Record<string, string | undefined>;

/** Formats a zod error as one line per wrong field: `path: what is wrong`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => describeIssue(issue));
}

function describeIssue(issue: { path: readonly PropertyKey[]; message: string }, origins: Record<string, string> = {}): string {
  const path = formatPath(issue.path);
  if (!path) return issue.message;
  const origin = Object.entries(origins).find(([prefix]) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`))?.[1];
  return `${path}${origin ? ` (from ${origin})` : ''}: ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Validates an already-merged raw config object. `origins` names where a field came from, by path prefix. */
export function parseConfig(raw: unknown, source = 'config', origins: Record<string, string> = {}): ResolvedConfig {
  const result = ConfigSchema.safeParse(raw);
  const duplicates = duplicateNodeNames(raw);
  if (!result.success || duplicates.length > 0) {
    const issues = [...(result.success ? [] : result.error.issues), ...duplicates];
    throw new ConfigError(source, issues.map((issue) => describeIssue(issue, origins)));
  }
  const config = result.data;
  return { ...config, nodes: config.nodes.map((node) => ({ ...node, name: node.name ?? defaultNodeName(node.url) })) };
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Only the position: Node's message quotes part of the file, which may hold a header secret.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new ConfigError(path, [`not valid JSON${position ? ` (near character ${position}${lineColumn(text, Number(position))})` : ''}; check commas, quotes and brackets`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(path, ['the file must hold a JSON object, e.g. {"nodes": [{"url": "http://127.0.0.1:2000"}]}']);
  }
  return parsed as Record<string, unknown>;
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `, line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Loads file + env + flags into one validated config. */
export async function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): Promise<ResolvedConfig> {
  const file = overrides.configFile ?? env.PISTOM_CONFIG;
  const raw: Record<string, unknown> = file ? await readConfigFile(file) : {};
  const merged = applyOverrides(raw, overrides, env);
  const origins = originsOf(overrides, env);
  const sources = [file && `file ${file}`, ...new Set(Object.values(origins))].filter(Boolean).join(' + ');
  if (merged.nodes === undefined) {
    throw new ConfigError(sources || 'no source', [
      'no Piston nodes configured: pass --backend URL (repeatable), set PISTOM_BACKENDS=url1,url2, or give --config FILE with a "nodes" list',
    ]);
  }
  return parseConfig(merged, sources || 'defaults', origins);
}

/** Which flag or variable set each overridden part of the config (fields not named here come from the file). */
function originsOf(overrides: ConfigOverrides, env: Env): Record<string, string> {
  const origins: Record<string, string> = {};
  if (overrides.backends?.length) origins.nodes = '--backend';
  else if (splitList(env.PISTOM_BACKENDS).length > 0) origins.nodes = 'PISTOM_BACKENDS';
  if (overrides.http) origins['http.host'] = origins['http.port'] = '--http';
  if (splitList(env.PISTOM_AUTH_TOKENS).length > 0) origins['http.auth_tokens'] = 'PISTOM_AUTH_TOKENS';
  if (env.PISTOM_REDIS_URL) origins['shared.redis_url'] = 'PISTOM_REDIS_URL';
  if (overrides.logLevel) origins['log.level'] = '--log-level';
  else if (env.PISTOM_LOG_LEVEL) origins['log.level'] = 'PISTOM_LOG_LEVEL';
  return origins;
}

/** Pure merge step, exported for tests. */
export function applyOverrides(raw: Record<string, unknown>, overrides: ConfigOverrides, env: Env): ConfigInput & Record<string, unknown> {
  const merged: Record<string, unknown> = { ...raw };
  const envBackends = splitList(env.PISTOM_BACKENDS);
  const backends = overrides.backends?.length ? overrides.backends : envBackends;
  if (backends.length > 0) merged.nodes = backends.map((url) => ({ url }));

  const http = { ...((raw.http as Record<string, unknown> | undefined) ?? {}) };
  if (overrides.http) Object.assign(http, overrides.http, { enabled: true });
  if (overrides.stateful !== undefined) http.stateful = overrides.stateful;
  const envTokens = splitList(env.PISTOM_AUTH_TOKENS);
  if (envTokens.length > 0) http.auth_tokens = envTokens;
  merged.http = http;

  if (env.PISTOM_REDIS_URL) merged.shared = { ...((raw.shared as Record<string, unknown> | undefined) ?? {}), redis_url: env.PISTOM_REDIS_URL.trim() };

  const level = overrides.logLevel ?? env.PISTOM_LOG_LEVEL;
  if (level) merged.log = { ...((raw.log as Record<string, unknown> | undefined) ?? {}), level };
  return merged as ConfigInput & Record<string, unknown>;
}
