/**
 * `pistom sim`: run one or more simulated Piston nodes until SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { CAP_NAMES } from '../piston/limits.js';
import { numberFlag, parseFlags, usageMessage, UsageError } from '../util/usage.js';
import { PistonRuntimeList, type PistonRuntime } from '../piston/types.js';
import { DEFAULT_MEMORY_FLOOR_BYTES, MODEL_ENV, MODEL_NAMES, startSimCluster, type SimNode, type SimNodeOptions } from './index.js';
import { normalizeBasePath } from './node/routes.js';


export const SIM_USAGE = `Usage: pistom sim [options]

Run simulated Piston v3.1.1 nodes (no code is executed; see docs/sim.md).

Options:
  --host HOST          address to listen on (default 127.0.0.1)
  --port PORT          first port; node i listens on PORT+i (default 0: ephemeral ports)
  --count N            number of nodes, named sim-1..sim-N (default 1)
  --runtimes WHICH     default | all | PATH.json (a GET /api/v2/runtimes answer) (default: default)
  --slots N            concurrent jobs per node, like PISTON_MAX_CONCURRENT_JOBS (default 64)
  --latency MS         extra service time per job in ms (default 0)
  --time-scale X       multiplies modeled run times; 0 = answer at once (default 1)
  --cap NAME=VALUE     a node cap, repeatable; NAME is one of:
                       ${CAP_NAMES.join(', ')}
  --memory-floor BYTES memory limits whose cgroup value is below this are answered
                       with status XX, like a real kernel; 0 = off (default ${DEFAULT_MEMORY_FLOOR_BYTES})
  --base-path PATH     serve PATH/runtimes and PATH/execute only, like the public API
                       (e.g. /api/v2/piston); default: / and /api/v2/... like a self-hosted node
  --model NAME         what programs produce: interpreter (read like a real node runs them)
                       or directive (only a pistom-sim: directive counts; others print nothing)
                       (default: $${MODEL_ENV} if set, else interpreter)
  --json               print one JSON line {"nodes":[{"name","url","apiUrl"}]} once listening
  --help               show this help
`;

function count(flag: string, raw: string, min: number, integer: boolean): number {
  return numberFlag(flag, raw, { min, integer });
}

function runtimesFrom(raw: string): SimNodeOptions['runtimes'] {
  if (raw === 'default' || raw === 'all') return raw;
  let text: string;
  try {
    text = readFileSync(raw, 'utf8');
  } catch (error) {
    throw new UsageError(`--runtimes must be default, all or a readable JSON file; cannot read "${raw}": ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--runtimes file "${raw}" is not valid JSON: ${(error as Error).message}`);
  }
  const list = PistonRuntimeList.safeParse(parsed);
  if (!list.success) throw new UsageError(`--runtimes file "${raw}" must hold an array of {language, version, aliases[], runtime?}`);
  return list.data as PistonRuntime[];
}

/** Parses `pistom sim` flags into node options; throws UsageError on a bad flag. */
export function parseSimArgs(argv: string[]): { help: boolean; json: boolean; count: number; options: SimNodeOptions } {
  const parsed = parseFlags(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    count: { type: 'string' },
    runtimes: { type: 'string' },
    slots: { type: 'string' },
    latency: { type: 'string' },
    'time-scale': { type: 'string' },
    cap: { type: 'string', multiple: true },
    'memory-floor': { type: 'string' },
    'base-path': { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  const options: SimNodeOptions = {};
  if (v.host !== undefined) {
    if (v.host.trim() === '') throw new UsageError('--host must be a host name or address');
    options.host = v.host;
  }
  if (v.port !== undefined) options.port = numberFlag('port', v.port, { min: 0, max: 65535, integer: true });
  const nodes = v.count === undefined ? 1 : count('count', v.count, 1, true);
  if (options.port && options.port + nodes - 1 > 65535) throw new UsageError(`--port ${options.port} with --count ${nodes} runs past port 65535`);
  if (v.runtimes !== undefined) options.runtimes = runtimesFrom(v.runtimes);
  if (v.slots !== undefined) options.slots = count('slots', v.slots, 1, true);
  if (v.latency !== undefined) options.latencyMs = count('latency', v.latency, 0, false);
  if (v['time-scale'] !== undefined) options.timeScale = count('time-scale', v['time-scale'], 0, false);
  if (v['memory-floor'] !== undefined) options.memoryFloorBytes = count('memory-floor', v['memory-floor'], 0, true);
  if (v['base-path'] !== undefined) {
    try {
      normalizeBasePath(v['base-path']);
    } catch (error) {
      throw new UsageError(`--base-path: ${(error as Error).message}`);
    }
    options.basePath = v['base-path'];
  }
  if (v.model !== undefined) {
    if (!(MODEL_NAMES as readonly string[]).includes(v.model)) throw new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}; got "${v.model}"`);
    options.model = v.model as SimNodeOptions['model'];
  }
  if (v.cap !== undefined) {
    const caps: NonNullable<SimNodeOptions['caps']> = {};
    for (const item of v.cap) {
      const m = /^([a-z_]+)=(-?\d+(?:\.\d+)?)$/.exec(item);
      if (!m || !(CAP_NAMES as readonly string[]).includes(m[1]!)) {
        throw new UsageError(`--cap must be NAME=NUMBER with NAME one of ${CAP_NAMES.join(', ')}; got "${item}"`);
      }
      caps[m[1] as (typeof CAP_NAMES)[number]] = Number(m[2]);
    }
    options.caps = caps;
  }
  return { help: v.help ?? false, json: v.json ?? false, count: nodes, options };
}

export async function runSimCli(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseSimArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(usageMessage('sim', error.message));
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(SIM_USAGE);
    return;
  }
  // listen for the stop signal before saying we are up: a supervisor may signal the moment it reads that line
  const stopSignal = onceStopSignal();
  let nodes: SimNode[];
  try {
    nodes = await startSimCluster(args.count, args.options);
  } catch (error) {
    stopSignal.cancel();
    console.error(`pistom sim: cannot start: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ nodes: nodes.map((n) => ({ name: n.name, url: n.url, apiUrl: n.apiUrl })) })}\n`);
  } else {
    for (const node of nodes) {
      const api = node.apiUrl === node.url ? '' : `, API at ${node.apiUrl}`;
      process.stdout.write(`${node.name} listening on ${node.url}${api} (admin: ${node.url}/__sim/stats)\n`);
    }
  }
  await stopSignal.received;
  await Promise.all(nodes.map((node) => node.close()));
  process.exitCode = 0;
}

/** Resolves on the first SIGINT or SIGTERM; a second one gets the default action (exit at once). */
function onceStopSignal(): { received: Promise<void>; cancel(): void } {
  let cancel = (): void => undefined;
  const received = new Promise<void>((resolve) => {
    const stop = (): void => {
      cancel();
      resolve();
    };
    cancel = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return { received, cancel };
}
