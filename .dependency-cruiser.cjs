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
 *
 * The library entry (src/index.ts, `import 'pistom'`) reaches neither sim nor bench: they are the
 * subpath exports pistom/sim and pistom/bench.
 *
 * Inside the simulator, the node (src/sim/node: routes, validation, slots, faults) and the program
 * model (src/sim/model) meet only at the ProgramModel interface (src/sim/model/program-model.ts).
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
      name: 'sim-node-sees-model-interface-only',
      comment: 'the simulated node uses the program model only through ProgramModel (src/sim/model/program-model.ts), so that either can change without the other (docs/sim.md)',
      severity: 'error',
      from: { path: '^src/sim/node/' },
      to: { path: '^src/sim/model/', pathNot: '^src/sim/model/program-model\\.ts$' },
    },
    {
      name: 'sim-model-knows-no-node',
      comment: 'the program model knows nothing of the simulated node (HTTP, routes, slots, faults)',
      severity: 'error',
      from: { path: '^src/sim/model/' },
      to: { path: '^src/sim/', pathNot: '^src/sim/model/' },
    },
    {
      name: 'sim-entry-picks-model-by-entry',
      comment: "the simulator's entry points pick a model through src/sim/model/index.ts, never through its internals",
      severity: 'error',
      from: { path: '^src/sim/[^/]+$' },
      to: { path: '^src/sim/model/', pathNot: '^src/sim/model/(index|program-model)\\.ts$' },
    },
    {
      name: 'library-entry-loads-no-peers',
      comment: "import 'pistom' (src/index.ts) loads the router pipeline only: the simulator and the load tester are pistom/sim and pistom/bench (package.json exports)",
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/(sim|bench)/', reachable: true },
    },
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
