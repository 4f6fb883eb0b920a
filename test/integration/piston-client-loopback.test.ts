// Transport faults need real sockets: nock cannot emulate a hang, a refused port, a reset or a trickle.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PistonClient } from '../../src/piston/client.js';
import { AttemptAbort } from '../../src/piston/outcome.js';

const BODY = JSON.stringify({ language: 'python', version: '3.11.2', files: [{ content: 'print(1)' }] });

describe('PistonClient against real sockets on loopback', () => {
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });

  async function server(handler: (socket: Socket) => void): Promise<string> {
    const sockets = new Set<Socket>();
    const srv: Server = createServer(() => undefined);
    srv.on('connection', (socket) => {
      sockets.add(socket);
      handler(socket);
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); srv.close(() => resolve()); }) });
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  }

  function client(url: string): PistonClient {
    const c = new PistonClient({ name: 'n1', url, connectTimeoutMs: 500 });
    open.push(c);
    return c;
  }

  it('times out a node that accepts and never answers, as a fault after send', async () => {
    const url = await server(() => undefined);
    expect(await client(url).execute(BODY, { timeoutMs: 200 })).toMatchObject({ class: 'node_fault', reason: 'timeout', sent: true });
  });

  it('bounds the whole answer: a node that trickles its body a byte at a time still times out', async () => {
    const timers: NodeJS.Timeout[] = [];
    open.push({ close: () => timers.forEach(clearInterval) });
    const url = await server((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n');
        timers.push(setInterval(() => socket.write('{'), 20));
      });
    });
    const started = performance.now();
    expect(await client(url).execute(BODY, { timeoutMs: 300 })).toMatchObject({ class: 'node_fault', reason: 'timeout', sent: true });
    // generous bound: the deadline is 300 ms, a per-gap timeout would never have fired at all
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('reports a refused connection as a fault before send', async () => {
    const url = await server(() => undefined);
    await open.pop()!.close(); // the port is now closed
    expect(await client(url).execute(BODY, { timeoutMs: 1000 })).toMatchObject({ class: 'node_fault', reason: 'connect', sent: false });
  });

  it('reports a connection reset in the middle of the answer as a fault after send', async () => {
    const url = await server((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"language":"py');
        setTimeout(() => socket.destroy(), 20);
      });
    });
    expect(await client(url).execute(BODY, { timeoutMs: 1000 })).toMatchObject({ class: 'node_fault', reason: 'reset', sent: true });
  });

  it('reports the caller aborting as a cancellation, and pistom moving the call off a silent node as unresponsive', async () => {
    const url = await server(() => undefined);
    const c = client(url);
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 50);
    expect(await c.execute(BODY, { timeoutMs: 5000, signal: cancel.signal })).toMatchObject({ class: 'cancelled' });
    const moved = new AbortController();
    setTimeout(() => moved.abort(new AttemptAbort('unresponsive', 'probe failed')), 50);
    expect(await c.execute(BODY, { timeoutMs: 5000, signal: moved.signal })).toMatchObject({ class: 'node_fault', reason: 'unresponsive', sent: true });
  });
});
