/**
 * The pipeline's direction is enforced by `npm run lint` (.dependency-cruiser.cjs). This checks the
 * rule set itself: an import against the pipeline fails, an import down the pipeline passes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';

const rules = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as { forbidden: IForbiddenRuleType[] };
const root = mkdtempSync(join(tmpdir(), 'pistom-boundaries-'));

/** A tiny src/ tree: `files` maps a path to what it imports. */
async function violations(files: Record<string, string[]>): Promise<string[]> {
  const dir = mkdtempSync(join(root, 'case-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  for (const [path, imports] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), `${imports.map((target, i) => `import * as m${i} from '${target}';\nexport const x${i} = m${i};`).join('\n')}\nexport const here = 1;\n`);
  }
  const result = await cruise(['src'], { baseDir: dir, ruleSet: { forbidden: rules.forbidden.filter((rule) => rule.name !== 'no-orphans') }, validate: true, tsPreCompilationDeps: true, tsConfig: { fileName: 'tsconfig.json' } }, { extensions: ['.ts', '.js'] });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the pipeline rule (npm run lint)', () => {
  it('fails an import against the pipeline: config reaching into the cluster', async () => {
    expect(await violations({ 'src/config/load.ts': ['../cluster/host.js'], 'src/cluster/host.ts': [] })).toEqual(['config-points-down: src/config/load.ts -> src/cluster/host.ts']);
  });

  it('fails the MCP layer reaching past the router into the wire, and the simulator reaching into the router', async () => {
    expect(await violations({ 'src/mcp/server.ts': ['../piston/client.js'], 'src/piston/client.ts': [], 'src/sim/server.ts': ['../router.js'], 'src/router.ts': [] })).toEqual([
      'mcp-points-down: src/mcp/server.ts -> src/piston/client.ts',
      'sim-points-down: src/sim/server.ts -> src/router.ts',
    ]);
  });

  it('passes imports down the pipeline, and Piston constants read from anywhere', async () => {
    expect(
      await violations({
        'src/mcp/server.ts': ['../router.js'],
        'src/router.ts': ['./cluster/cluster.js'],
        'src/cluster/cluster.ts': ['../piston/client.js', '../config/schema.js'],
        'src/piston/client.ts': ['./limits.js'],
        'src/config/schema.ts': ['../piston/limits.js'],
        'src/piston/limits.ts': [],
      }),
    ).toEqual([]);
  });
});

describe('inside the simulator: the node and the program model meet at ProgramModel only', () => {
  it('fails the node reaching into the interpreter, the model reaching into the node, and the entry reaching past the model entry', async () => {
    expect(
      await violations({
        'src/sim/node/server.ts': ['../model/interpreter.js', '../model/program-model.js'],
        'src/sim/model/interpreter.ts': ['../node/validate.js'],
        'src/sim/model/program-model.ts': [],
        'src/sim/node/validate.ts': [],
        'src/sim/index.ts': ['./model/stages.js'],
        'src/sim/model/stages.ts': [],
      }),
    ).toEqual([
      'sim-entry-picks-model-by-entry: src/sim/index.ts -> src/sim/model/stages.ts',
      'sim-model-knows-no-node: src/sim/model/interpreter.ts -> src/sim/node/validate.ts',
      'sim-node-sees-model-interface-only: src/sim/node/server.ts -> src/sim/model/interpreter.ts',
    ]);
  });

  it('passes the node using the interface and the entry choosing a model through the model entry', async () => {
    expect(
      await violations({
        'src/sim/node/server.ts': ['../model/program-model.js', './validate.js'],
        'src/sim/node/validate.ts': ['../model/program-model.js'],
        'src/sim/index.ts': ['./node/server.js', './model/index.js'],
        'src/sim/model/index.ts': ['./interpreter.js', './program-model.js'],
        'src/sim/model/interpreter.ts': ['./program-model.js'],
        'src/sim/model/program-model.ts': ['../../piston/limits.js'],
        'src/piston/limits.ts': [],
      }),
    ).toEqual([]);
  });
});

describe("the library entry: import 'pistom' loads the router pipeline only", () => {
  it('fails src/index.ts reaching the simulator or the load tester, even through another module', async () => {
    const found = await violations({ 'src/index.ts': ['./app.js'], 'src/app.ts': ['./sim/index.js', './bench/index.js'], 'src/sim/index.ts': [], 'src/bench/index.ts': [] });
    expect(found.filter((v) => v.startsWith('library-entry-loads-no-peers'))).toEqual([
      'library-entry-loads-no-peers: src/index.ts -> src/bench/index.ts',
      'library-entry-loads-no-peers: src/index.ts -> src/sim/index.ts',
    ]);
  });

  it('passes the pipeline reached from src/index.ts', async () => {
    expect(await violations({ 'src/index.ts': ['./app.js'], 'src/app.ts': ['./router.js'], 'src/router.ts': [] })).toEqual([]);
  });
});
