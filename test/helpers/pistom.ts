/**
 * Test helpers: the built CLI (dist/cli.js) as a child process, reached with the SDK's real Client
 * over stdio or Streamable HTTP. `npm test` builds dist first (pretest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, any>;
  _meta?: Record<string, any>;
};

export function writeConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'pistom-test-'));
  const file = join(dir, 'pistom.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface Connected {
  client: Client;
  call(name: string, args: Record<string, unknown>, options?: Parameters<Client['callTool']>[2]): Promise<ToolResult>;
  stderr(): string;
  close(): Promise<void>;
}

function wrap(client: Client, stderr: () => string, close: () => Promise<void>): Connected {
  return {
    client,
    call: async (name, args, options) => (await client.callTool({ name, arguments: args }, undefined, options)) as ToolResult,
    stderr,
    close,
  };
}

/** pistom serve over stdio, spawned by the SDK's StdioClientTransport. */
export async function connectStdio(serveArgs: string[], env: Record<string, string> = {}): Promise<Connected> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', ...serveArgs], env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'warn', ...env }, stderr: 'pipe' });
  let errors = '';
  transport.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const client = new Client({ name: 'pistom-test', version: '0.0.0' });
  await client.connect(transport);
  return wrap(client, () => errors, () => client.close());
}

export interface HttpPistom {
  url: string;
  process: ChildProcess;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** pistom serve --http on an ephemeral loopback port. */
export async function startHttpPistom(serveArgs: string[], env: Record<string, string> = {}): Promise<HttpPistom> {
  const child = spawn(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0', ...serveArgs], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pistom did not start:\n${errors}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
      const match = /pistom listening on (http:\/\/\S+)\/mcp/.exec(errors);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pistom exited with ${code}:\n${errors}`));
    });
  });
  return {
    url,
    process: child,
    stderr: () => errors,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<Connected> {
  const client = new Client({ name: 'pistom-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  return wrap(client, () => '', () => client.close());
}
