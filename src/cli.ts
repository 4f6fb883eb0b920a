#!/usr/bin/env node
/**
 * pistom's command line: serve | check | bench | sim | demo | schema.
 */
import { UsageError } from './commands/flags.js';
import { VERSION } from './version.js';

const USAGE = `pistom ${VERSION}: an MCP server that runs code on a cluster of Piston nodes

Usage:
  pistom serve [--backend URL ...] [--config FILE] [--http HOST:PORT] [--stateful]
               [--log-level LEVEL] [--allow-public]
      Serve MCP over stdio (default) or Streamable HTTP at /mcp (--http).
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

Nodes come from --backend (repeatable), PISTOM_BACKENDS (comma-separated URLs) or the config
file (--config or PISTOM_CONFIG). Other environment: PISTOM_LOG_LEVEL, PISTOM_AUTH_TOKENS.
Docs: README.md and docs/ in the repository.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
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
      throw new UsageError(`unknown command "${command}"; commands: serve, check, bench, sim, demo, schema (pistom --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as Error)?.name === 'ConfigError' || (error as Error)?.name === 'HttpStartError') {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`pistom: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
