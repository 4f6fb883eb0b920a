/**
 * The interface between the simulated node (src/sim/node: routes, validation, job slots, faults)
 * and its program model (what a program produces). The node validates a request into an
 * ExecuteJob, asks the model for the job's outcome, holds a slot for the outcome's duration and
 * answers it; it knows nothing else about the model, and the model knows nothing of HTTP. Either
 * side can be replaced without touching the other (`npm run lint` enforces it).
 */
import type { LimitName } from '../../piston/limits.js';
import type { FileEncoding, PistonRuntime, StageResult } from '../../piston/types.js';

export interface JobFile {
  name: string;
  content: string;
  encoding: (typeof FileEncoding.options)[number];
}

/** The limits a job runs under (0 means unlimited, a negative memory limit means no cap). */
export type JobLimits = Record<LimitName, number>;

/** A request the node accepted, as Piston hands it to its sandbox. */
export interface ExecuteJob {
  runtime: PistonRuntime;
  files: JobFile[];
  /** The first utf8 file: the one Piston runs. */
  main: JobFile;
  args: string[];
  /** stdin as the program sees it (Piston appends a newline when missing). */
  stdin: string;
  limits: JobLimits;
}

export interface ModelOutcome {
  /** Present for compiled languages. */
  compile?: StageResult;
  run: StageResult;
  /** Modeled time the job holds its slot, in ms (compile + run wall time), before the node's time scale. */
  durationMs: number;
  /** Nothing would ever stop this job (a busy loop with every limit set to 0): it holds its slot until the node stops. */
  endless: boolean;
}

/** What a program produces on a node. Deterministic: the same job always gets the same outcome. */
export interface ProgramModel {
  simulate(job: ExecuteJob): ModelOutcome;
}

/** What a node's configuration tells its model about the sandbox. */
export interface SandboxSettings {
  /** PISTON_OUTPUT_MAX_SIZE: each stream's cap. */
  outputMax: number;
  /** cgroup memory limits below this many bytes are refused with status XX (0: never). */
  memoryFloorBytes: number;
}
