/**
 * The `execute` behaviour every transport must show, run by mcp-stdio.test.ts and mcp-http.test.ts
 * against the built CLI and simulated nodes on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import type { ClientEra, Connected } from '../helpers/pistom.js';
import { writeConfig } from '../helpers/pistom.js';
import { declared } from '../helpers/programs.js';

export interface SuiteSetup {
  era: ClientEra;
  /** Starts pistom with this config file and connects the SDK Client to it. */
  connect(configFile: string): Promise<Connected>;
  teardown?(): Promise<void>;
}

export function defineExecuteSuite(transport: string, setup: SuiteSetup): void {
  describe(`execute over ${transport}`, () => {
    let sim: SimNode;
    let mcp: Connected;
    let deadPort: number;

    beforeAll(async () => {
      sim = await startSimNode({ name: 'sim-a' });
      const dead = await startSimNode();
      deadPort = dead.port;
      await dead.close();
      const file = writeConfig({
        nodes: [{ name: 'sim-a', url: sim.url, headers: { authorization: 'Bearer node-secret-123' }, caps: { run_timeout: 3000, max_body_bytes: 102400 } }],
        health: { interval_ms: 60_000 },
      });
      mcp = await setup.connect(file);
    });

    afterAll(async () => {
      await mcp?.close();
      await setup.teardown?.();
      await sim?.close();
    });

    it('speaks the protocol revision of its era', async () => {
      const version = mcp.client.protocolVersion();
      if (setup.era === 'modern') expect(version).toBe('2026-07-28');
      else if (setup.era !== 'v1') expect(version).toBe('2025-11-25');
      const { tools } = await mcp.client.listTools();
      expect(tools.length).toBeGreaterThan(0);
    });

    it('lists the tools with input and output schemas and annotations', async () => {
      const { tools } = await mcp.client.listTools();
      const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
      expect(Object.keys(byName).sort()).toEqual(['cluster_status', 'execute', 'list_runtimes', 'run_python_code']);
      expect(byName.execute!.inputSchema.properties).toHaveProperty('language');
      expect(byName.execute!.inputSchema.required).toEqual(['language']);
      expect(byName.execute!.outputSchema?.properties).toHaveProperty('node');
      expect(byName.execute!.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: false });
      expect(byName.list_runtimes!.annotations).toMatchObject({ readOnlyHint: true });
    });

    it('runs python with stdin and args and names the node', async () => {
      const result = await mcp.call('execute', {
        language: 'Python',
        version: '3.x',
        code: declared({ stdout: "hello world\nrest: 'line2\\n'\n['file0.code', 'a', 'b']\n" }, 'import sys\nprint("hello", input())\nprint("rest:", repr(sys.stdin.read()))\nprint(sys.argv)'),
        stdin: 'world\nline2',
        args: ['a', 'b'],
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ language: 'python', version: '3.11.2', node: 'sim-a', attempts: 1, run: { code: 0, status: null } });
      expect(result.structuredContent!.run.stdout).toContain('hello world');
      expect(typeof result.structuredContent!.queued_ms).toBe('number');
      const text = result.content[0]!.text!;
      expect(text).toContain('--- stdout ---');
      expect(text).toContain('hello world');
      expect(text).toMatch(/exit code: 0/);
    });

    it('runs several files with sub-folders', async () => {
      const result = await mcp.call('execute', {
        language: 'python',
        files: [
          { name: 'main.py', content: declared({ stdout: '42\n' }, 'from pkg import mod\nprint(mod.X)') },
          { name: 'pkg/mod.py', content: 'X = 42' },
          { name: 'pkg/__init__.py', content: '' },
        ],
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent!.run.status).toBeNull();
    });

    it('runs a compiled language and returns the compile stage', async () => {
      const result = await mcp.call('execute', { language: 'c', code: declared({ stdout: '42 arg1\n' }, '#include <stdio.h>\nint main(int c, char**v){ printf("42 %s\\n", v[1]); return 0; }', '//'), args: ['arg1'] });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toHaveProperty('compile');
      expect(result.structuredContent!.compile.code).toBe(0);
      expect(result.structuredContent!.run.stdout).toBe('42 arg1\n');
    });

    it('reports a failing program as a normal result', async () => {
      const exit = await mcp.call('execute', { language: 'py', code: declared({ stdout: 'bye\n', code: 3 }, 'import sys\nprint("bye")\nsys.exit(3)') });
      expect(exit.isError).toBeFalsy();
      expect(exit.structuredContent!.run).toMatchObject({ status: 'RE', code: 3 });
      expect(exit.content[0]!.text).toMatch(/runtime error: exited with code 3/);
      const compile = await mcp.call('execute', { language: 'c', code: declared({ compile: { stderr: "file0.code.c:2:20: error: 'x' undeclared (first use in this function)\n", code: 1 } }, 'int main(){ return x; }', '//') });
      expect(compile.isError).toBeFalsy();
      expect(compile.content[0]!.text).toMatch(/COMPILE ERROR/);
      const timeout = await mcp.call('execute', { language: 'python', code: declared({ cpu_ms: 60_000 }, 'while True: pass'), run_cpu_time: 200 });
      expect(timeout.structuredContent!.run.status).toBe('TO');
      expect(timeout.content[0]!.text).toMatch(/time limit exceeded/);
    });

    it('says in plain words when output was cut by the node limit', async () => {
      const result = await mcp.call('execute', { language: 'python', code: declared({ status: 'OL' }, 'print("x"*100000)') });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent!.run.status).toBe('OL');
      expect(result.content[0]!.text).toMatch(/OUTPUT TRUNCATED/);
    });

    it('lists runtimes with the nodes that offer them', async () => {
      const result = await mcp.call('list_runtimes', {});
      const runtimes = result.structuredContent!.runtimes as Array<{ language: string; nodes: string[]; aliases: string[] }>;
      expect(runtimes.map((r) => r.language).sort()).toEqual(['c', 'c++', 'javascript', 'python']);
      expect(runtimes.find((r) => r.language === 'python')).toMatchObject({ nodes: ['sim-a'], aliases: expect.arrayContaining(['py']) });
    });

    it('keeps run_python_code from the original Pistom', async () => {
      const result = await mcp.call('run_python_code', { code: declared({ stdout: '2\n' }, 'print(1+1)') });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ language: 'python', run: { stdout: '2\n' } });
    });

    it('names close matches for an unknown language', async () => {
      const result = await mcp.call('execute', { language: 'pyhton', code: 'print(1)' });
      expect(result.isError).toBe(true);
      expect(result.content[0]!.text).toMatch(/unknown language "pyhton".*Did you mean "python"/s);
      expect(result.content[0]!.text).toMatch(/list_runtimes/);
      expect(result._meta!['pistom/error']).toMatchObject({ class: 'request_error', code: 'unknown_language' });
    });

    it.each([
      ['an absolute file name', { files: [{ name: '/etc/passwd', content: 'x' }] }, /absolute/],
      ['a file name that climbs out', { files: [{ name: 'main.py', content: 'x' }, { name: '../../evil.py', content: 'x' }] }, /climbs out/],
      ['a limit of 0', { code: 'x', run_timeout: 0 }, /at least 1/],
      ['a negative limit', { code: 'x', compile_memory_limit: -1 }, /at least 1/],
      ['args that are not strings', { code: 'x', args: ['a', 5] }, /args must be an array of strings/],
      ['args given as a string', { code: 'x', args: 'abc' }, /args must be an array of strings/],
      ['stdin that is not a string', { code: 'x', stdin: 5 }, /stdin must be a string/],
      ['no code at all', {}, /give code/],
      ['an unknown field', { code: 'x', langauge: 'py' }, /langauge/],
    ])('refuses %s before sending anything', async (_what, args, message) => {
      const before = sim.stats().received;
      const result = await mcp.call('execute', { language: 'python', ...args });
      expect(result.isError).toBe(true);
      expect(result.content[0]!.text).toMatch(message);
      expect(sim.stats().received).toBe(before);
    });

    it('names the cap a limit goes over', async () => {
      const result = await mcp.call('execute', { language: 'python', code: 'print(1)', run_timeout: 999999 });
      expect(result.isError).toBe(true);
      expect(result.content[0]!.text).toMatch(/run_timeout 999999 .*cap .* is 3000/);
    });

    it('says how big a request body was and the limit', async () => {
      const result = await mcp.call('execute', { language: 'python', code: `# ${'x'.repeat(120_000)}\nprint(1)` });
      expect(result.isError).toBe(true);
      expect(result.content[0]!.text).toMatch(/request body is \d+ bytes; the largest any node accepts is 102400 bytes/);
    });

    it('says when the only node cannot be reached, and never shows node headers', async () => {
      const file = writeConfig({ nodes: [{ name: 'dead', url: `http://127.0.0.1:${deadPort}`, headers: { authorization: 'Bearer node-secret-123' } }], health: { interval_ms: 60_000 } });
      const other = await setup.connect(file);
      try {
        const result = await other.call('execute', { language: 'python', code: 'print(1)' });
        expect(result.isError).toBe(true);
        expect(result.content[0]!.text).toMatch(/unreachable|cannot connect|no node/);
        expect(JSON.stringify(result)).not.toContain('node-secret-123');
        const status = await other.call('cluster_status', {});
        expect(JSON.stringify(status)).not.toContain('node-secret-123');
      } finally {
        await other.close();
      }
    });

    it('shows the cluster status with node, breaker and queue', async () => {
      const result = await mcp.call('cluster_status', {});
      expect(result.structuredContent!.nodes[0]).toMatchObject({ name: 'sim-a', breaker: 'closed', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2$/) });
      expect(['unknown', 'healthy']).toContain(result.structuredContent!.nodes[0].health);
      expect(result.structuredContent!.queue).toHaveProperty('waiting');
      expect(JSON.stringify(result)).not.toContain('node-secret-123');
    });
  });
}
