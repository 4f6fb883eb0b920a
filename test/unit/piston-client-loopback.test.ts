// Transport faults need real sockets: nock cannot emulate a hang, a refused port or a reset.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PistonClient } from '../../src/piston/client.js';
import { CancelledError, NodeFaultError } from '../../src/piston/errors.js';

const BODY = { language: 'python', version: '3.11.2', files: [{ content: 'print(1)' }] };

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
    const error = await client(url).execute(BODY, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeFaultError);
    expect(error).toMatchObject({ reason: 'timeout', sent: true });
  });

  it('reports a refused connection as a fault before send', async () => {
    const url = await server(() => undefined);
    await open.pop()!.close(); // the port is now closed
    const error = await client(url).execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'connect', sent: false });
  });

  it('reports a connection reset in the middle of the answer as a fault after send', async () => {
    const url = await server((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"language":"py');
        setTimeout(() => socket.destroy(), 20);
      });
    });
    const error = await client(url).execute(BODY, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeFaultError);
    expect(error).toMatchObject({ reason: 'reset', sent: true });
  });

  it('reports the caller aborting as a cancellation, not a fault', async () => {
    const url = await server(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await client(url).execute(BODY, { timeoutMs: 5000, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
  });
});
