import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLiveView, formatLiveLine } from '../../src/bench/live.js';
import type { LiveStats } from '../../src/bench/recorder.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

const stats: LiveStats = { elapsedMs: 1500, sent: 120, completed: 118, answered: 117, failed: 1, inFlight: 2, waiting: 0, warmup: false, p50: 3.2, p99: 12.5 };

describe('live view', () => {
  it('shows rate, in-flight, p50/p99 so far and errors', () => {
    const line = formatLiveLine(stats, 78.4);
    expect(line).toContain('rate 78/s');
    expect(line).toContain('in-flight 2');
    expect(line).toContain('p50 3.20ms');
    expect(line).toContain('p99 12.5ms');
    expect(line).toContain('errors 1');
  });

  it('redraws one line in place on a terminal and prints plain lines otherwise', async () => {
    for (const tty of [true, false]) {
      const sink = new Sink();
      const view = createLiveView({ stream: sink, tty, intervalMs: 10 });
      view.start(() => stats, { title: 't' });
      await new Promise((r) => setTimeout(r, 60));
      view.stop();
      const body = sink.text.split('\n').slice(1).join('\n');
      if (tty) {
        expect(body).toContain('\r\x1b[2K');
        expect(body.trim().split('\n')).toHaveLength(1);
      } else {
        expect(body).not.toContain('\x1b');
        expect(body.trim().split('\n').length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('keeps going when the stream breaks (closed pipe)', async () => {
    const sink = new Writable({ write: (_c, _e, done) => done(Object.assign(new Error('EPIPE'), { code: 'EPIPE' })) });
    const view = createLiveView({ stream: sink, tty: false, intervalMs: 5 });
    view.start(() => stats, { title: 't' });
    await new Promise((r) => setTimeout(r, 30));
    expect(() => view.stop()).not.toThrow();
  });
});
