/**
 * pistom in this process (cluster, router, HTTP server on an ephemeral loopback port) with the
 * SDK's real Client over real HTTP: for cluster tests that need to tune config and read state.
 */
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { createPistom, type Pistom, type PistomOptions } from '../../src/app.js';
import { PistomHttpServer } from '../../src/mcp/http/server.js';
import { connectHttp, type Connected } from './pistom.js';

export interface InProcess {
  pistom: Pistom;
  http: PistomHttpServer;
  url: string;
  connect(headers?: Record<string, string>): Promise<Connected>;
  close(): Promise<void>;
}

export async function startInProcess(config: Partial<ConfigInput> & { nodes: ConfigInput['nodes'] }, options: PistomOptions = {}): Promise<InProcess> {
  const resolved = parseConfig({ ...config, http: { port: 0, ...(config.http ?? {}) } }, 'test');
  const pistom = createPistom(resolved, options);
  const http = new PistomHttpServer({ http: resolved.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready });
  const url = await http.listen();
  const clients: Connected[] = [];
  return {
    pistom,
    http,
    url,
    async connect(headers = {}) {
      const client = await connectHttp(url, headers);
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.close().catch(() => undefined);
      await http.close();
      await pistom.close();
    },
  };
}

/** Runs `count` calls with at most `concurrency` at a time; returns every settled outcome. */
export async function load<T>(count: number, concurrency: number, call: (index: number) => Promise<T>, onProgress?: (done: number) => void): Promise<Array<PromiseSettledResult<T>>> {
  const results: Array<PromiseSettledResult<T>> = new Array(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await call(index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
