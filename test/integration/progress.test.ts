/**
 * Progress notifications (queued with its place, the node that took the call, heartbeats while it
 * runs) and the cluster status resource, through the SDK's real Client over HTTP and stdio.
 */
import { waitFor } from './ops-support.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import { connectStdio, writeConfig, type Connected } from '../helpers/pistom.js';

const SLOW = { language: 'python', code: '# pistom-sim: {"stdout": "done\\n", "wall_ms": 600}\nprint("done")', run_timeout: 2000 };

describe('progress and status', () => {
  let sim: SimNode | undefined;
  let app: InProcess | undefined;
  let stdio: Connected | undefined;
  afterEach(async () => {
    await stdio?.close();
    await app?.close();
    await sim?.close();
    stdio = app = sim = undefined;
  });

  it('over HTTP: reports the queue place, the node and heartbeats, then the result', async () => {
    sim = await startSimNode({ name: 'only' });
    app = await startInProcess({ nodes: [{ name: 'only', url: sim.url, max_concurrent: 1 }], health: { interval_ms: 60_000 } }, { heartbeatMs: 150 });
    const client = await app.connect();
    const blocker = client.call('execute', SLOW);
    await waitFor(() => app!.pistom.router.running === 1, 'the first call to hold the only slot');
    const messages: string[] = [];
    const result = await client.call('execute', SLOW, { onprogress: (progress) => messages.push(progress.message ?? '') });
    await blocker;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!.queued_ms).toBeGreaterThan(0);
    expect(messages[0]).toMatch(/queued at position 1/);
    expect(messages).toContain('running on node only');
    expect(messages.some((m) => /still running on node only/.test(m))).toBe(true);
  });

  it('over stdio: reports the node that took the call', async () => {
    sim = await startSimNode({ name: 'only' });
    stdio = await connectStdio(['--config', writeConfig({ nodes: [{ name: 'only', url: sim.url }], health: { interval_ms: 60_000 } })]);
    const messages: string[] = [];
    const result = await stdio.call('execute', SLOW, { onprogress: (p) => messages.push(p.message ?? '') });
    expect(result.isError).toBeFalsy();
    expect(messages[0]).toBe('running on node only');
  });

  it('serves the cluster status as a resource too, without secrets', async () => {
    sim = await startSimNode({ name: 'only' });
    app = await startInProcess({ nodes: [{ name: 'only', url: sim.url, headers: { authorization: 'Bearer resource-secret-42' } }], health: { interval_ms: 60_000 } });
    const client = await app.connect();
    const { resources } = await client.client.listResources();
    expect(resources.map((r) => r.uri)).toContain('pistom://cluster/status');
    const read = await client.client.readResource({ uri: 'pistom://cluster/status' });
    const text = (read.contents[0] as { text: string }).text;
    expect(JSON.parse(text)).toMatchObject({ nodes: [{ name: 'only', breaker: 'closed' }], queue: { waiting: 0 } });
    expect(text).not.toContain('resource-secret-42');
  });
});
