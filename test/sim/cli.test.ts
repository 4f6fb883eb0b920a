/** `pistom sim`: spawned as a real process, with its output, signals and exit codes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = "const m = await import('./src/sim/cli.ts'); await m.runSimCli(process.argv.slice(1));";

// A test that fails before it signals its child must not leave the child running.
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startCli(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; firstLine: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', () => reject(new Error(`exited before printing: ${err}`)));
  });
  firstLine.catch(() => undefined);
  return { child, stdout: () => out, stderr: () => err, firstLine };
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('pistom sim CLI', () => {
  it('--json prints the nodes once listening, serves them, and exits 0 on SIGTERM', async () => {
    const cli = startCli(['--json', '--count', '2', '--slots', '4', '--cap', 'run_timeout=1000', '--time-scale', '0']);
    const line = JSON.parse(await cli.firstLine) as { nodes: Array<{ name: string; url: string }> };
    expect(line.nodes.map((n) => n.name)).toEqual(['sim-1', 'sim-2']);
    for (const node of line.nodes) {
      expect(JSON.parse((await get(`${node.url}/`)).text)).toEqual({ message: 'Piston v3.1.1' });
    }
    const over = await fetch(`${line.nodes[0]!.url}/api/v2/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ language: 'python', version: '*', files: [{ content: 'print(1)' }], run_timeout: 2000 }),
    });
    expect(await over.json()).toEqual({ message: 'run_timeout cannot exceed the configured limit of 1000' });
    cli.child.kill('SIGTERM');
    expect(await exitCode(cli.child)).toBe(0);
    await expect(get(`${line.nodes[0]!.url}/`)).rejects.toThrow();
  });

  it('prints a human line per node without --json, and exits 0 on SIGINT', async () => {
    const cli = startCli(['--runtimes', 'all']);
    expect(await cli.firstLine).toMatch(/^sim-\d+ listening on http:\/\/127\.0\.0\.1:\d+ /);
    const url = /(http:\/\/\S+)/.exec(await cli.firstLine)![1]!;
    expect(JSON.parse((await get(`${url}/api/v2/runtimes`)).text)).toHaveLength(125);
    cli.child.kill('SIGINT');
    expect(await exitCode(cli.child)).toBe(0);
  });

  it.each([
    [['--slots', '0'], /--slots must be an integer >= 1, got "0"/],
    [['--cap', 'speed=3'], /--cap must be NAME=NUMBER with NAME one of run_timeout, .*got "speed=3"/],
    [['--runtimes', '/nonexistent.json'], /--runtimes must be default, all or a readable JSON file/],
    [['--latency', 'fast'], /--latency must be a number >= 0, got "fast"/],
    [['--bogus'], /unknown flag --bogus; allowed: --host, --port/],
    [['--model', 'real'], /--model must be one of interpreter, directive; got "real"/],
  ])('bad flags %j: a clear error on stderr and exit code 2', async (args, message) => {
    const cli = startCli(args);
    expect(await exitCode(cli.child)).toBe(2);
    expect(cli.stderr()).toMatch(message);
    expect(cli.stdout()).toBe('');
  });

  it('--help prints the usage and exits 0', async () => {
    const cli = startCli(['--help']);
    expect(await exitCode(cli.child)).toBe(0);
    expect(cli.stdout()).toMatch(/^Usage: pistom sim \[options\]/);
    expect(cli.stdout()).toContain('--cap NAME=VALUE');
  });
});
