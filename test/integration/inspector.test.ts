/**
 * The MCP Inspector CLI (a dev dependency) against the built server, as a user would check it:
 * tools/list in the modern, legacy and auto eras over stdio and HTTP, with --strict reporting no
 * schema portability problem, and one execute call.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { CLI, startHttpPistom, type HttpPistom } from '../helpers/pistom.js';
import { declared } from '../helpers/programs.js';

const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', import.meta.url));

function inspector(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [INSPECTOR, '--cli', ...args], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('MCP Inspector CLI', () => {
  let sim: SimNode;
  let http: HttpPistom;
  beforeAll(async () => {
    sim = await startSimNode({ name: 'only' });
    http = await startHttpPistom(['--backend', sim.url]);
  });
  afterAll(async () => {
    await http?.stop();
    await sim?.close();
  });

  for (const era of ['modern', 'legacy', 'auto']) {
    for (const transport of ['stdio', 'http'] as const) {
      it(`lists the tools in the ${era} era over ${transport}, with portable schemas`, async () => {
        const target = transport === 'stdio' ? ['--', process.execPath, CLI, 'serve', '--backend', sim.url] : ['--transport', 'http', '--server-url', `${http.url}/mcp`];
        const result = await inspector(['--protocol-era', era, '--strict', '--method', 'tools/list', ...target]);
        expect(result.code, result.stderr).toBe(0);
        const names = (JSON.parse(result.stdout) as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name).sort();
        expect(names).toEqual(['cluster_status', 'execute', 'list_runtimes', 'run_python_code']);
        expect(result.stderr).not.toMatch(/warning|error/i);
      });
    }
  }

  it('runs code through execute', async () => {
    const result = await inspector(['--protocol-era', 'modern', '--method', 'tools/call', '--tool-name', 'execute', '--tool-arg', 'language=python', '--tool-arg', `code=${declared({ stdout: '42\n' }, 'print(6*7)')}`, '--transport', 'http', '--server-url', `${http.url}/mcp`]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).structuredContent.run.stdout).toBe('42\n');
  });
});
