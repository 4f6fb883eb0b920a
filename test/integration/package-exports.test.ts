/**
 * The package's public entry points, imported by their names through package.json's `exports`
 * (the built dist/, as a user of the package gets it): `pistom` loads the router pipeline only,
 * `pistom/sim` and `pistom/bench` work on their own, and their types resolve.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs an ES module in a fresh Node inside the package (so `pistom` resolves to itself), recording every module it loads. */
async function inPackage(body: string): Promise<{ loaded: string[]; result: Record<string, unknown> }> {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify({ loaded, result }));
  `;
  const child = await run(['--input-type=module', '-e', script], ROOT);
  expect(child.code, child.stderr).toBe(0);
  const parsed = JSON.parse(child.stdout) as { loaded: string[]; result: Record<string, unknown> };
  return { loaded: parsed.loaded.filter((url) => url.startsWith(new URL('../../dist/', import.meta.url).href)), result: parsed.result };
}

const peerModules = (loaded: string[]) => loaded.filter((url) => /\/dist\/(sim|bench)\//.test(url));

describe('package entry points by name', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('declares pistom, pistom/sim and pistom/bench in an exports map, with types, and keeps the bin', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; exports: Record<string, unknown> };
    expect(pkg.exports).toMatchObject({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './sim': { types: './dist/sim/index.d.ts', default: './dist/sim/index.js' },
      './bench': { types: './dist/bench/index.d.ts', default: './dist/bench/index.js' },
    });
    expect(pkg.bin).toEqual({ pistom: 'dist/cli.js' });
  });

  it("import 'pistom' gives the router and loads neither the simulator nor the load tester", async () => {
    const { loaded, result } = await inPackage(`
      const lib = await import('pistom');
      return { names: Object.keys(lib), createPistom: typeof lib.createPistom };
    `);
    expect(result.createPistom).toBe('function');
    expect(result.names).toEqual(expect.arrayContaining(['createPistom', 'Router', 'createMcpServer', 'PistomHttpServer', 'parseConfig']));
    expect(result.names).not.toEqual(expect.arrayContaining(['startSimNode']));
    expect(result.names).not.toEqual(expect.arrayContaining(['runBench']));
    expect(loaded).toContain(new URL('../../dist/index.js', import.meta.url).href);
    expect(peerModules(loaded)).toEqual([]);
  });

  it("import 'pistom/sim' starts a simulated node, and 'pistom/bench' measures it", async () => {
    const { loaded, result } = await inPackage(`
      const { startSimNode } = await import('pistom/sim');
      const { runBench } = await import('pistom/bench');
      const node = await startSimNode({ timeScale: 0 });
      try {
        const root = await (await fetch(node.url + '/')).json();
        const report = await runBench({ target: { kind: 'piston', urls: [node.url] }, concurrency: 2, requests: 6 });
        return { root, answered: report.counts.answered, failed: report.counts.failed, executed: node.stats().executed };
      } finally {
        await node.close();
      }
    `);
    expect(result).toEqual({ root: { message: 'Piston v3.1.1' }, answered: 6, failed: 0, executed: 6 });
    expect(loaded).toContain(new URL('../../dist/sim/index.js', import.meta.url).href);
    expect(loaded).toContain(new URL('../../dist/bench/index.js', import.meta.url).href);
  });

  it("types resolve by name for a TypeScript user, and 'pistom' has no simulator in its types", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pistom-consumer-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'pistom'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['good.ts'] }));
    writeFileSync(
      join(dir, 'good.ts'),
      [
        "import { createPistom, type ResolvedConfig } from 'pistom';",
        "import { startSimNode, type SimNode, type ProgramModel } from 'pistom/sim';",
        "import { runBench, type BenchReport } from 'pistom/bench';",
        'export const make: (config: ResolvedConfig) => unknown = createPistom;',
        'export const start: () => Promise<SimNode> = () => startSimNode({ model: "directive" });',
        'export const model: ProgramModel = { simulate: () => ({ run: { stdout: "", stderr: "", output: "", code: 0, signal: null, message: null, status: null }, durationMs: 0, endless: false }) };',
        'export const bench: (url: string) => Promise<BenchReport> = (url) => runBench({ target: { kind: "piston", urls: [url] }, requests: 1 });',
        '',
      ].join('\n'),
    );
    const good = await run([TSC, '-p', 'tsconfig.json'], dir);
    expect(good.stdout + good.stderr).toBe('');
    expect(good.code).toBe(0);

    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['bad.ts'] }));
    writeFileSync(join(dir, 'bad.ts'), "import { startSimNode } from 'pistom';\nexport const start = startSimNode;\n");
    const bad = await run([TSC, '-p', 'tsconfig.json'], dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.ts.*Module '"pistom"' has no exported member 'startSimNode'/);
  });
});
