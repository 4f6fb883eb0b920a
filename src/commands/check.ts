/**
 * `pistom check`: validates the config (every wrong field with its path) and probes each node:
 * reachable, Piston version, runtimes, latency; and, when a fleet shares Redis, that Redis answers.
 * Exits 1 when a node or the shared store is unusable, 2 on a bad config.
 */
import { ConfigError, loadConfig, type ConfigOverrides } from '../config/load.js';
import { secretsOf, type NodeConfig } from '../config/schema.js';
import { Redactor } from '../util/redact.js';
import { PistonClient } from '../piston/client.js';
import { probeRedis, type SharedStoreProbe } from '../shared/probe.js';
import { numberFlag, parseFlags } from '../util/usage.js';

const HELP = `pistom check [--config FILE | --backend URL ...] [--json] [--timeout-ms MS]
  Validates the configuration and probes every node: GET of its runtime list (http://host:2000/api/v2/runtimes
  for a self-hosted node, BASE/runtimes for a URL with a path) and, for a self-hosted node, GET / for its version.
  With shared.redis_url (or PISTOM_REDIS_URL) it also connects to that Redis: PING and its version.
  --json            one JSON document on stdout instead of the table
  --timeout-ms MS   how long each probe may take (default 3000)
  Exit code: 0 all nodes answer like Piston (and Redis answers, when configured), 1 a node or Redis does not,
  2 the configuration is invalid.
  Node headers, URL credentials and the Redis URL are used for the probes and never printed.`;

export interface NodeProbe {
  name: string;
  url: string;
  ok: boolean;
  version: string | null;
  runtimes: number | null;
  languages: string[];
  latency_ms: number | null;
  error: string | null;
}

async function probeNode(node: NodeConfig, timeoutMs: number, redactor: Redactor, maxRuntimes: number): Promise<NodeProbe> {
  const client = new PistonClient({ name: node.name, url: node.url, headers: node.headers, connections: 2, redactor, maxRuntimes });
  const probe: NodeProbe = { name: node.name, url: client.baseUrl, ok: false, version: null, runtimes: null, languages: [], latency_ms: null, error: null };
  const problems: string[] = [];
  try {
    const started = performance.now();
    const list = await client.runtimes({ timeoutMs });
    if (list.ok) probe.latency_ms = Math.round((performance.now() - started) * 10) / 10;
    if (!list.ok) {
      const url = client.urlOf('/runtimes');
      // Name the URL requested, once: a misconfigured node's message already does.
      const request = list.fault.message.includes(url) ? '' : `GET ${url}: `;
      problems.push(`${request}${list.fault.message}${list.fault.reason === 'misconfigured' ? '' : list.fault.detail ? ` (${list.fault.detail})` : ''}`);
    } else {
      probe.runtimes = list.runtimes.length;
      probe.languages = [...new Set(list.runtimes.map((runtime) => runtime.language))].sort();
      if (list.runtimes.length === 0) problems.push('no runtimes installed (install packages on the node)');
      // A self-hosted node says its version at its root; an API under a base path need not.
      if (new URL(node.url).pathname.replace(/\/+$/, '') === '') {
        const version = await client.version({ timeoutMs });
        if (version.ok) probe.version = version.version;
        if (version.ok && !/^Piston v\d/.test(version.version)) problems.push(`answers GET / with "${version.version.slice(0, 60)}", not "Piston vX.Y.Z": is this a Piston node?`);
      }
    }
  } finally {
    await client.close();
  }
  probe.ok = problems.length === 0;
  probe.error = probe.ok ? null : problems.join('; ');
  return probe;
}

function table(probes: NodeProbe[]): string {
  const rows = [['NODE', 'URL', 'STATUS', 'VERSION', 'RUNTIMES', 'LATENCY', 'DETAIL']];
  for (const p of probes) {
    rows.push([p.name, p.url, p.ok ? 'ok' : 'FAIL', p.version === null ? '-' : p.version.slice(0, 30), p.runtimes === null ? '-' : String(p.runtimes), p.latency_ms === null ? '-' : `${p.latency_ms} ms`, p.error ?? p.languages.slice(0, 6).join(', ') + (p.languages.length > 6 ? ', ...' : '')]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { backend: { type: 'string', multiple: true }, config: { type: 'string' }, json: { type: 'boolean' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const);
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const timeoutMs = values['timeout-ms'] ? numberFlag('timeout-ms', values['timeout-ms'], { min: 1, integer: true }) : 3000;

  const overrides: ConfigOverrides = { configFile: values.config, backends: values.backend };
  let config;
  try {
    config = await loadConfig(overrides);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const { problems, source } = error;
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: false, config: { ok: false, source, problems }, nodes: [] }, null, 2)}\n`);
    else process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const redactor = new Redactor(secretsOf(config));
  const redisUrl = config.shared.redis_url;
  const [probes, shared] = await Promise.all([
    Promise.all(config.nodes.map((node) => probeNode(node, timeoutMs, redactor, config.catalog.max_runtimes))),
    redisUrl === undefined ? Promise.resolve(null) : probeRedis(redisUrl, timeoutMs),
  ]);
  const ok = probes.every((probe) => probe.ok) && (shared?.ok ?? true);
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, config: { ok: true, problems: [] }, nodes: probes, shared }, null, 2)}\n`);
  else process.stdout.write(`config ok (${config.nodes.length} node${config.nodes.length === 1 ? '' : 's'})\n${table(probes)}\n${shared ? `${sharedLine(shared)}\n` : ''}${summary(probes, shared)}\n`);
  return ok ? 0 : 1;
}

function summary(probes: NodeProbe[], shared: SharedStoreProbe | null): string {
  const failed = probes.filter((p) => !p.ok).length;
  const nodes = failed === 0 ? 'all nodes ok' : `${failed} node(s) failed`;
  return shared && !shared.ok ? `${nodes}; the shared store (Redis) failed` : nodes;
}

function sharedLine(probe: SharedStoreProbe): string {
  if (probe.ok) return `shared store: ok (Redis ${probe.version ?? 'version unknown'}, PING ${probe.latency_ms} ms)`;
  return `shared store: FAIL ${probe.error} (pistom would serve with per-process limits until Redis answers)`;
}
