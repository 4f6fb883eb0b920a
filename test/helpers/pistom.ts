/**
 * Test helpers: the built CLI (dist/cli.js) as a child process, reached with the SDK's real Client
 * over stdio or Streamable HTTP, in either protocol era (`ClientEra`): the v2 SDK Client pinned to
 * 2026-07-28 (`modern`), negotiating (`auto`) or speaking 2025 (`legacy`), or the v1 SDK Client
 * (`v1`, a 2025-era client as deployed today). `npm test` builds dist first (pretest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as V1StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

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

export type ClientEra = 'modern' | 'auto' | 'legacy' | 'v1';
export const CLIENT_ERAS: ClientEra[] = ['modern', 'legacy', 'v1'];

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  timeout?: number;
}

/** What tests need from a client, the same whichever SDK and era is behind it. */
export interface McpClient {
  listTools(): Promise<{ tools: Array<{ name: string; inputSchema: Record<string, any>; outputSchema?: Record<string, any>; annotations?: Record<string, any> }> }>;
  listResources(): Promise<{ resources: Array<{ uri: string }> }>;
  readResource(params: { uri: string }): Promise<{ contents: Array<Record<string, unknown>> }>;
  /** The protocol version in use (negotiated by initialize, or the pinned modern one). */
  protocolVersion(): string | undefined;
}

export interface Connected {
  client: McpClient;
  era: ClientEra;
  /** The client's transport, connected (tests may wrap its send/onmessage to watch the wire). */
  transport: Transport;
  call(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<ToolResult>;
  stderr(): string;
  close(): Promise<void>;
}

function v2Client(era: Exclude<ClientEra, 'v1'>, capabilities: Record<string, unknown> = {}): Client {
  const mode = era === 'modern' ? { pin: '2026-07-28' } : era;
  return new Client({ name: 'pistom-test', version: '0.0.0' }, { capabilities, versionNegotiation: { mode } });
}

async function connectClient(era: ClientEra, transport: Transport | ConstructorParameters<typeof V1Client>[0] | object, stderr: () => string): Promise<Connected> {
  if (era === 'v1') {
    const client = new V1Client({ name: 'pistom-test-v1', version: '0.0.0' });
    await client.connect(transport as never);
    return {
      era,
      transport: transport as Transport,
      client: { listTools: () => client.listTools(), listResources: () => client.listResources(), readResource: (p) => client.readResource(p), protocolVersion: () => (client.transport as { protocolVersion?: string })?.protocolVersion },
      call: async (name, args, options) => (await client.callTool({ name, arguments: args }, undefined, options)) as ToolResult,
      stderr,
      close: () => client.close(),
    };
  }
  const client = v2Client(era);
  await client.connect(transport as Transport);
  return {
    era,
    transport: transport as Transport,
    client: {
      listTools: () => client.listTools(),
      listResources: () => client.listResources(),
      readResource: (p) => client.readResource(p) as never,
      protocolVersion: () => client.getNegotiatedProtocolVersion?.(),
    },
    call: async (name, args, options) => (await client.callTool({ name, arguments: args }, options)) as ToolResult,
    stderr,
    close: () => client.close(),
  };
}

/** pistom serve over stdio, spawned by the SDK's StdioClientTransport. */
export async function connectStdio(serveArgs: string[], env: Record<string, string> = {}, era: ClientEra = 'modern'): Promise<Connected> {
  const params = { command: process.execPath, args: [CLI, 'serve', ...serveArgs], env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'warn', ...env }, stderr: 'pipe' as const };
  const transport = era === 'v1' ? new V1StdioClientTransport(params) : new StdioClientTransport(params);
  let errors = '';
  transport.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return connectClient(era, transport, () => errors);
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

export async function connectHttp(url: string, headers: Record<string, string> = {}, era: ClientEra = 'modern'): Promise<Connected> {
  const endpoint = new URL(`${url}/mcp`);
  const transport = era === 'v1' ? new V1StreamableHTTPClientTransport(endpoint, { requestInit: { headers } }) : new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } });
  return connectClient(era, transport, () => '');
}
