#!/usr/bin/env node
/**
 * pistom's command line: serve | check | bench | sim | demo | schema.
 */
import nodeModule from 'node:module';
import { UsageError, usageMessage } from './util/usage.js';
import { VERSION } from './version.js';

const USAGE = `pistom ${VERSION}: an MCP server that runs code on a cluster of Piston nodes

Usage:
  pistom serve [--backend URL ...] [--config FILE] [--http HOST:PORT] [--stateful]
               [--allow-public] [--metrics HOST:PORT] [--log-level LEVEL] [--grace-ms MS]
      Serve MCP over stdio (default) or Streamable HTTP at /mcp (--http), MCP 2026-07-28 and
      2025-11-25/06-18/03-26 on the same endpoint. Every flag: pistom serve --help.
  pistom check [--backend URL ... | --config FILE] [--json]
      Validate the config and probe every node.
  pistom sim [--count N] [--port P] [--runtimes default|all|FILE] [--slots N] [--latency MS] [--json]
      Start simulated Piston nodes on loopback (for tests, demos, benchmarks).
  pistom bench --piston URL | --mcp URL | --mcp-stdio "CMD" [options]   (pistom bench --help)
  pistom bench compare A.json B.json
      Load-test a Piston cluster, directly or through pistom.
  pistom demo
      Start 3 simulated nodes and pistom, run a short MCP session, print what happened.
  pistom schema
      Print the config file's JSON Schema.

Each command lists its own flags with --help (pistom serve --help, pistom bench --help, ...);
this page shows the common ones. Settings without a flag (limits, breaker, tasks, ...) live in
the config file: pistom schema prints its JSON Schema.
Nodes come from --backend (repeatable), PISTOM_BACKENDS (comma-separated URLs) or the config
file (--config or PISTOM_CONFIG). Other environment: PISTOM_LOG_LEVEL, PISTOM_AUTH_TOKENS,
PISTOM_REDIS_URL (a Redis shared by a fleet of pistom processes: node limits, ejections,
runtime lists, client limits and tasks; docs/deploy.md).
Docs: README.md and docs/ (in the package and the repository).`;

// Every start of an agent's stdio server pays for compiling pistom and its dependencies: Node keeps
// the compiled code in its cache folder (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE) so
// that later starts skip it. Commands are imported below, after this line, so that they profit.
// (Looked up on the module object: a named import would fail to load on a Node without it, before
// the version check below could say so plainly.)
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const MINIMUM_NODE = [22, 20] as const;

/** pistom's dependencies (undici 8 among them) fail in obscure ways on older Node: say so plainly. */
function nodeTooOld(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1])) return undefined;
  return `pistom needs Node.js ${MINIMUM_NODE.join('.')} or newer; this is ${process.version} (${process.execPath}). In a checkout of the repository, npm scripts use the Node 22 that npm ci installs: npm start --silent -- --backend URL, or node_modules/.bin/node dist/cli.js ...`;
}

const SIMPLE_HELP: Record<string, string> = {
  demo: 'pistom demo\n  Starts 3 simulated Piston nodes and pistom over HTTP on loopback, runs a short MCP client session against it and prints each call and answer. Needs nothing else.',
  schema: 'pistom schema\n  Prints the JSON Schema of the config file (the repository keeps it in config/pistom.schema.json).',
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command && SIMPLE_HELP[command] && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${SIMPLE_HELP[command]}\n`);
    return 0;
  }
  const tooOld = command && !['--help', '-h', 'help', '--version', '-v'].includes(command) ? nodeTooOld() : undefined;
  if (tooOld) {
    process.stderr.write(`${tooOld}\n`);
    return 1;
  }
  switch (command) {
    case 'serve':
      return (await import('./commands/serve.js')).runServe(rest);
    case 'check':
      return (await import('./commands/check.js')).runCheck(rest);
    case 'sim':
      await (await import('./sim/cli.js')).runSimCli(rest);
      return Number(process.exitCode ?? 0);
    case 'bench':
      return (await import('./bench/cli.js')).runBenchCli(rest);
    case 'demo':
      return (await import('./commands/demo.js')).runDemo(rest);
    case 'schema': {
      const { configJsonSchema } = await import('./config/json-schema.js');
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      return 0;
    }
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`pistom: unknown command "${command}"; commands: serve, check, bench, sim, demo, schema (pistom --help)\n`);
      return 2;
  }
}

// A reader that went away (pistom demo | head) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

function listenProblem(error: NodeJS.ErrnoException & { address?: string; port?: number }): string | undefined {
  const where = [error.address, error.port].filter((part) => part !== undefined).join(':');
  if (error.code === 'EADDRINUSE') return `cannot listen on ${where}: the address is already in use; pick another port (e.g. --http 127.0.0.1:3001) or stop what holds it`;
  if (error.code === 'EACCES') return `cannot listen on ${where}: permission denied; ports below 1024 need privileges, use a higher one`;
  if (error.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such address on this machine`;
  return undefined;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${usageMessage(argv[0] ?? '', error.message)}\n`);
      process.exitCode = 2;
      return;
    }
    if ((error as Error)?.name === 'ConfigError' || (error as Error)?.name === 'HttpStartError') {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const listen = listenProblem(error as NodeJS.ErrnoException);
    if (listen) {
      process.stderr.write(`pistom: ${listen}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`pistom: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
