import type { Outcome } from '../outcome.js';
import type { PistonFile } from '../../piston/types.js';

/** A runtime the target offers, as far as fitting a workload is concerned. */
export interface RuntimeInfo {
  language: string;
  version: string;
  aliases: string[];
}

/** One request of a workload, in Piston's terms; `version` may be filled in from the target's runtimes. */
export interface BenchRequest {
  language: string;
  version?: string;
  files: PistonFile[];
  stdin?: string;
  args?: string[];
  run_timeout?: number;
  compile_timeout?: number;
  run_cpu_time?: number;
  compile_cpu_time?: number;
  run_memory_limit?: number;
  compile_memory_limit?: number;
}

export interface Target {
  readonly kind: 'piston' | 'mcp-http' | 'mcp-stdio';
  /** Where the requests go, safe to print (no credentials). */
  readonly endpoints: string[];
  connect(signal: AbortSignal): Promise<void>;
  /** Runtimes every part of the target can run (for direct nodes: those all nodes share). */
  runtimes(signal: AbortSignal): Promise<RuntimeInfo[]>;
  /** Never throws: every failure is classified into the returned outcome. `signal` aborts the request. */
  execute(request: BenchRequest, signal: AbortSignal): Promise<Outcome>;
  close(): Promise<void>;
}

export interface TargetContext {
  headers: Record<string, string>;
  /** Sizes connection pools: the most requests the run will have at the target at once. */
  maxConcurrent: number;
  timeoutMs: number;
}
