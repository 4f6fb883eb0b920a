/** Helpers for bench tests: run the CLI in-process with captured output and a fake SIGINT source. */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { runBenchCli } from '../../../src/bench/cli.js';

export class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

export async function runCli(argv: string[], signals = new EventEmitter()) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runBenchCli(argv, { stdout, stderr, signals });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
