/**
 * One modeled sandbox run (a stage): output streams with Piston's per-chunk output cap,
 * stdio buffering, CPU/wall clocks against the time limits, memory against the memory limit,
 * and the StageResult Piston reports for each way a run can end.
 */
import type { StageResult } from '../../piston/types.js';

export interface ProcessLimits {
  /** Wall-clock limit in ms; 0 = unlimited. */
  wallMs: number;
  /** CPU limit in ms; 0 = unlimited. */
  cpuMs: number;
  /** Memory limit in bytes; <= 0 = no cap. */
  memoryBytes: number;
  /** PISTON_OUTPUT_MAX_SIZE: the cap each stream's accumulated text is checked against. */
  outputMax: number;
}

export interface ProcessProfile {
  /** Whether stdout is block-buffered when piped (python, C): flushed at exit, lost on a kill. */
  bufferedStdout: boolean;
  cpuMs: number;
  wallMs: number;
  memoryBytes: number;
  /** The bash wrapper's report of a killed program: script path, line, command. */
  runScript: string;
  runLine: number;
  runCommand: string;
}

/** How a run ended, thrown by the process or the interpreter and caught by the stage runner. */
export class Exit {
  constructor(readonly code: number) {}
}
export class SignalDeath {
  constructor(readonly signal: string, readonly memoryBytes?: number) {}
}
export class TimeLimit {
  constructor(readonly clock: 'wall' | 'cpu') {}
}
export class OutputKill {}
/** A busy loop or sleep with no limit that could stop it: the job never ends. */
export class NeverEnds {}

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
};
const BASH_SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: 'Hangup', SIGQUIT: 'Quit', SIGILL: 'Illegal instruction', SIGTRAP: 'Trace/breakpoint trap', SIGABRT: 'Aborted',
  SIGBUS: 'Bus error', SIGFPE: 'Floating point exception', SIGKILL: 'Killed', SIGUSR1: 'User defined signal 1',
  SIGSEGV: 'Segmentation fault', SIGUSR2: 'User defined signal 2', SIGALRM: 'Alarm clock', SIGTERM: 'Terminated',
};

export function signalNumber(signal: string): number | undefined {
  return SIGNAL_NUMBERS[signal];
}
export function signalName(num: number): string | undefined {
  return Object.keys(SIGNAL_NUMBERS).find((k) => SIGNAL_NUMBERS[k] === num);
}

const PIPE_CHUNK_BYTES = 65536;
const KEEPER_DEATH = 'Sandbox keeper received fatal signal 6\n';
const MAX_MODELED_WRITES = 200_000;

export class SimProcess {
  stdout = '';
  stderr = '';
  output = '';
  cpu: number;
  wall: number;
  memory: number;
  private status: 'OL' | 'EL' | null = null;
  private message: string | null = null;
  private pending = '';
  private overflowed = false;
  private writes = 0;

  constructor(
    readonly limits: ProcessLimits,
    private readonly profile: ProcessProfile,
    /** deterministic jitter in [0, 1) for this program */
    private readonly jitter: number,
  ) {
    this.cpu = profile.cpuMs;
    this.wall = profile.wallMs;
    this.memory = profile.memoryBytes;
  }

  write(stream: 'stdout' | 'stderr', text: string): void {
    if (text.length === 0) return;
    if (++this.writes > MAX_MODELED_WRITES) this.loopForever(true);
    if (stream === 'stdout' && this.profile.bufferedStdout) {
      this.pending += text;
      if (this.pending.length > 8192) this.flush();
      return;
    }
    this.deliver(stream, text);
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    this.deliver('stdout', text);
  }

  /** Drops what stdio still buffers (os._exit, a kill). */
  discardBuffered(): void {
    this.pending = '';
  }

  /** Piston's check, per pipe read: accumulated length + chunk bytes over the cap drops the chunk. */
  private deliver(stream: 'stdout' | 'stderr', text: string): void {
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += PIPE_CHUNK_BYTES) {
      const chunk = bytes.subarray(at, at + PIPE_CHUNK_BYTES);
      const current = stream === 'stdout' ? this.stdout : this.stderr;
      if (current.length + chunk.length > this.limits.outputMax) {
        this.status = stream === 'stdout' ? 'OL' : 'EL';
        this.message = stream === 'stdout' ? 'stdout length exceeded' : 'stderr length exceeded';
        this.overflowed = true;
        continue;
      }
      const piece = chunk.toString();
      if (stream === 'stdout') this.stdout += piece;
      else this.stderr += piece;
      this.output += piece;
    }
  }

  /** After an overflow Piston kills the sandbox; the model lets the current statement finish. */
  statementDone(): void {
    if (this.overflowed) throw new OutputKill();
  }

  sleep(ms: number): void {
    if (!(ms > 0)) return;
    this.wall += ms;
    if (this.limits.wallMs > 0 && this.wall > this.limits.wallMs) throw new TimeLimit('wall');
  }

  burn(ms: number): void {
    if (!(ms > 0)) return;
    this.cpu += ms;
    this.wall += ms;
    if (this.limits.cpuMs > 0 && this.cpu > this.limits.cpuMs) throw new TimeLimit('cpu');
    if (this.limits.wallMs > 0 && this.wall > this.limits.wallMs) throw new TimeLimit('wall');
  }

  alloc(bytes: number): void {
    if (!(bytes > 0)) return;
    const next = this.memory + bytes;
    if (this.limits.memoryBytes > 0 && next > this.limits.memoryBytes) throw new SignalDeath('SIGKILL', this.limits.memoryBytes);
    this.memory = Math.max(this.memory, next);
  }

  /** A loop that never ends on its own: the first limit that applies stops it. */
  loopForever(busy: boolean): never {
    if (busy && this.limits.cpuMs > 0 && (this.limits.wallMs <= 0 || this.limits.cpuMs - this.cpu <= this.limits.wallMs - this.wall)) {
      throw new TimeLimit('cpu');
    }
    if (this.limits.wallMs > 0) throw new TimeLimit('wall');
    throw new NeverEnds();
  }

  /** The StageResult for the way the run ended. */
  finish(end: unknown): StageResult {
    const j = this.jitter;
    let code: number | null;
    let signal: string | null = null;
    let status: StageResult['status'] = null;
    let message: string | null = null;
    let cpu = this.cpu;
    let wall = this.wall + 1 + Math.floor(j * 4);
    let memory = this.memory;

    if (end instanceof TimeLimit) {
      this.pending = ''; // killed: unflushed stdio buffers are lost
      code = null;
      signal = 'SIGKILL';
      status = 'TO';
      if (end.clock === 'cpu') {
        message = 'Time limit exceeded';
        cpu = this.limits.cpuMs + 85 + Math.floor(j * 15);
        wall = cpu + 6 + Math.floor(j * 6);
      } else {
        message = 'Time limit exceeded (wall clock)';
        wall = this.limits.wallMs + 95 + Math.floor(j * 12);
        cpu = Math.min(this.cpu, wall);
      }
    } else if (end instanceof OutputKill) {
      this.flush();
      this.deliver('stderr', KEEPER_DEATH);
      code = null;
      signal = 'SIGKILL';
    } else if (end instanceof SignalDeath) {
      this.pending = '';
      code = 128 + (signalNumber(end.signal) ?? 9);
      if (end.memoryBytes !== undefined) memory = end.memoryBytes;
      this.deliver('stderr', this.bashReport(end.signal));
    } else {
      this.flush();
      code = end instanceof Exit ? end.code : 0;
    }

    if (this.status !== null) {
      status = this.status;
      message = this.message;
      signal = 'SIGKILL';
      code = null;
    } else if (status === null && code !== null && code !== 0) {
      status = 'RE';
      message = `Exited with error status ${code}`;
    }
    return {
      stdout: this.stdout,
      stderr: this.stderr,
      output: this.output,
      code,
      signal,
      message,
      status,
      cpu_time: Math.round(cpu),
      wall_time: Math.round(Math.max(wall, cpu)),
      memory: Math.round(memory),
    };
  }

  /** What the run script's bash prints when the program it ran died of a signal. */
  private bashReport(signal: string): string {
    const text = BASH_SIGNAL_TEXT[signal];
    if (text === undefined) return '';
    if (signal === 'SIGTERM') return `${text}\n`;
    const p = this.profile;
    return `${p.runScript}: line ${p.runLine}: ${'3'.padStart(5)} ${text.padEnd(24)}${p.runCommand} "$@"\n`;
  }
}
