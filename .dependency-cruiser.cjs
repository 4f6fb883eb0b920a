/**
 * The pipeline's direction, enforced by `npm run lint` (dependency-cruiser): each part of src/ may
 * import only the parts below it.
 *
 *   limits (src/piston/limits.ts: Piston's constants), util (src/util, log, version)   the bottom
 *   config                                   reads util and Piston's constants
 *   wire (src/piston) → cluster → router → mcp   each reads what is below it
 *   request                                  the execute input: read by router and mcp
 *   shared                                   the fleet's shared state on Redis: adapters for the ports the
 *                                            cluster (cluster/fleet.ts) and mcp (tasks, client limits) define;
 *                                            only the app wires it in, so the no-Redis path never loads it
 *   sim, bench                               peers that speak the wire from outside: wire and util only
 *   app (app.ts, metrics.ts, cli.ts, index.ts, commands/)   the top: wires everything together
 */
const PARTS = {
  limits: '^src/piston/limits\\.ts$',
  util: '^src/(util/|log\\.ts$|version\\.ts$)',
  config: '^src/config/',
  wire: '^src/piston/',
  request: '^src/request/',
  shared: '^src/shared/',
  cluster: '^src/cluster/',
  router: '^src/(router\\.ts$|router/|errors\\.ts$)',
  mcp: '^src/mcp/',
  sim: '^src/sim/',
  bench: '^src/bench/',
  app: '^src/(app\\.ts|metrics\\.ts|cli\\.ts|index\\.ts|commands/)',
};

/** What each part may import besides itself. */
const BELOW = {
  limits: [],
  util: [],
  config: ['util', 'limits'],
  wire: ['util', 'limits'],
  request: ['wire', 'config', 'util', 'limits'],
  cluster: ['wire', 'config', 'util', 'limits'],
  router: ['cluster', 'request', 'wire', 'config', 'util', 'limits'],
  mcp: ['router', 'request', 'config', 'util', 'limits'],
  shared: ['mcp', 'router', 'cluster', 'request', 'wire', 'config', 'util', 'limits'],
  sim: ['wire', 'util', 'limits'],
  bench: ['wire', 'util', 'limits'],
};

const allowedPaths = (part) => [part, ...BELOW[part]].map((name) => PARTS[name]);

module.exports = {
  forbidden: [
    ...Object.keys(BELOW).map((part) => ({
      name: `${part}-points-down`,
      comment: `${part} may import only ${[part, ...BELOW[part]].join(', ')}: the pipeline points one way (docs/architecture.md)`,
      severity: 'error',
      from: { path: PARTS[part], ...(part === 'wire' ? { pathNot: PARTS.limits } : {}) },
      to: { path: '^src/', pathNot: allowedPaths(part) },
    })),
    {
      name: 'no-circular',
      comment: 'modules that import each other cannot be understood or changed one at a time',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-orphans',
      comment: 'a module nothing imports is dead code (entry points excepted)',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: '^src/(cli|index)\\.ts$|\\.d\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
