/**
 * The live view: on a terminal one line redrawn in place a few times a second; otherwise a plain
 * line every few seconds. It writes to stderr so stdout stays clean for `--json -`, and it never
 * throws if the stream goes away (a closed pipe).
 */
import { formatMs } from './report/format.js';
import type { LiveStats } from './recorder.js';
import type { LiveSink } from './run.js';

export interface LiveViewOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Redraw interval on a terminal, line interval otherwise. */
  intervalMs?: number;
  tty?: boolean;
}

export function createLiveView({ stream, tty = stream.isTTY === true, intervalMs }: LiveViewOptions): LiveSink {
  const every = intervalMs ?? (tty ? 250 : 5000);
  let timer: NodeJS.Timeout | undefined;
  let previous: { atMs: number; completed: number } | undefined;
  let broken = false;
  const onError = () => {
    broken = true;
  };

  const write = (text: string) => {
    if (broken) return;
    try {
      stream.write(text);
    } catch {
      broken = true;
    }
  };

  return {
    start(read, { title }) {
      stream.on('error', onError);
      write(`pistom bench: ${title}\n`);
      const startMs = Date.now();
      previous = { atMs: startMs, completed: 0 };
      timer = setInterval(() => {
        const stats = read();
        const atMs = Date.now();
        const rate = previous && atMs > previous.atMs ? ((stats.completed - previous.completed) * 1000) / (atMs - previous.atMs) : 0;
        previous = { atMs, completed: stats.completed };
        const line = formatLiveLine(stats, rate);
        write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      }, every);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (tty) write('\r\x1b[2K');
      stream.off('error', onError);
    },
  };
}

export function formatLiveLine(stats: LiveStats, ratePerSec: number): string {
  if (stats.warmup) return `warm-up  in-flight ${stats.inFlight}`;
  const parts = [
    `${(stats.elapsedMs / 1000).toFixed(1)}s`,
    `rate ${Math.round(ratePerSec)}/s`,
    `in-flight ${stats.inFlight}${stats.waiting > 0 ? ` (+${stats.waiting} waiting)` : ''}`,
    `sent ${stats.sent}`,
    `answered ${stats.answered}`,
    `errors ${stats.failed}`,
    `p50 ${formatMs(stats.p50)}`,
    `p99 ${formatMs(stats.p99)}`,
  ];
  return parts.join('  ');
}
