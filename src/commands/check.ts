/**
 * `pistom check`: validates the config (every wrong field with its path) and probes each node:
 * reachable, Piston version, runtimes, latency. Exits 1 when a node is unusable, 2 on a bad config.
 */
import { loadConfig, type ConfigOverrides } from '../config/load.js';
import type { NodeConfig } from '../config/schema.js';
import { PistonClient } from '../piston/client.js';
import { parseFlags } from './flags.js';

const HELP = `pistom check [--config FILE | --backend URL ...] [--json] [--timeout-ms MS]
  Validates the configuration and probes every node (GET / and GET /api/v2/runtimes).
  Exit code: 0 all nodes answer like Piston, 1 a node does not, 2 the configuration is invalid.`;

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

/** Strips credentials from a URL before it is shown. */
function displayUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

export async function probeNode(node: NodeConfig, timeoutMs: number): Promise<NodeProbe> {
  const client = new PistonClient({ name: node.name, url: node.url, headers: node.headers, connections: 2 });
  const probe: NodeProbe = { name: node.name, url: displayUrl(node.url), ok: false, version: null, runtimes: null, languages: [], latency_ms: null, error: null };
  try {
    const started = performance.now();
    probe.version = await client.version({ timeoutMs });
    const runtimes = await client.runtimes({ timeoutMs });
    probe.latency_ms = Math.round((performance.now() - started) * 10) / 10;
    probe.runtimes = runtimes.length;
    probe.languages = [...new Set(runtimes.map((runtime) => runtime.language))].sort();
    probe.ok = /^Piston v\d/.test(probe.version);
    if (!probe.ok) probe.error = `answers GET / with "${probe.version}", not "Piston vX.Y.Z"`;
    else if (runtimes.length === 0) {
      probe.ok = false;
      probe.error = 'no runtimes installed (install packages on the node)';
    }
  } catch (error) {
    probe.error = (error as Error).message;
  } finally {
    await client.close();
  }
  return probe;
}

function table(probes: NodeProbe[]): string {
  const rows = [['NODE', 'URL', 'STATUS', 'VERSION', 'RUNTIMES', 'LATENCY', 'DETAIL']];
  for (const p of probes) {
    rows.push([p.name, p.url, p.ok ? 'ok' : 'FAIL', p.version ?? '-', p.runtimes === null ? '-' : String(p.runtimes), p.latency_ms === null ? '-' : `${p.latency_ms} ms`, p.error ?? p.languages.slice(0, 6).join(', ') + (p.languages.length > 6 ? ', ...' : '')]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { backend: { type: 'string', multiple: true }, config: { type: 'string' }, json: { type: 'boolean' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const, 'check');
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const timeoutMs = values['timeout-ms'] ? Number(values['timeout-ms']) : 3000;
  const overrides: ConfigOverrides = { configFile: values.config, backends: values.backend };
  let config;
  try {
    config = await loadConfig(overrides);
  } catch (error) {
    if ((error as Error).name !== 'ConfigError') throw error;
    const problems = (error as { problems: string[] }).problems;
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: false, config: { ok: false, problems }, nodes: [] })}\n`);
    else process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const probes = await Promise.all(config.nodes.map((node) => probeNode(node, timeoutMs)));
  const ok = probes.every((probe) => probe.ok);
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, config: { ok: true, problems: [] }, nodes: probes }, null, 2)}\n`);
  else process.stdout.write(`config ok (${config.nodes.length} node${config.nodes.length === 1 ? '' : 's'})\n${table(probes)}\n${ok ? 'all nodes ok' : `${probes.filter((p) => !p.ok).length} node(s) failed`}\n`);
  return ok ? 0 : 1;
}
