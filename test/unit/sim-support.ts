/** Shared helpers for the simulated node's tests. */
import { request } from 'undici';

export interface ExecuteAnswer {
  status: number;
  text: string;
  json: () => Record<string, unknown> & { run: Record<string, unknown>; compile?: Record<string, unknown>; language: string; version: string };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<ExecuteAnswer> {
  const res = await request(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: () => JSON.parse(text) };
}

export async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
}

/** POST /api/v2/execute of one file. */
export function run(baseUrl: string, language: string, content: string, extra: Record<string, unknown> = {}): Promise<ExecuteAnswer> {
  return post(`${baseUrl}/api/v2/execute`, { language, version: '*', files: [{ content }], ...extra });
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
