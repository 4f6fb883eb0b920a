/**
 * What a memory limit does before the program runs. Piston hands isolate `--cg-mem=floor(limit /
 * 1000)` (KiB; only when the limit is >= 0) and isolate writes that many KiB to the box's memory
 * cgroup; 0 KiB means no limit. The kernel refuses a limit below what the fresh box already uses:
 * isolate dies, and Piston answers 200 with status XX (a request the same on every node, not a
 * broken node). A limit the kernel accepts but the runtime cannot start in kills it at once.
 */
import type { StageResult } from '../../piston/types.js';

/**
 * The smallest cgroup limit the kernel accepted on the recorded nodes: 3000 and 4096 bytes gave
 * XX, 8192 bytes and up did not. The real floor depends on the kernel and the runtime.
 */
export const DEFAULT_MEMORY_FLOOR_BYTES = 8192;

/** isolate's box ids run 0..998 (Piston's `++box_id % 999`). */
const BOX_IDS = 999;

/** The bytes isolate writes to memory.limit_in_bytes, or null when it sets no limit. */
export function cgroupLimitBytes(limit: number): number | null {
  if (!(limit >= 0)) return null;
  const kib = Math.floor(limit / 1000);
  return kib > 0 ? kib * 1024 : null;
}

/** A deterministic box id for a job (real nodes count them up); `offset` 1 is the run box after a compile. */
export function boxId(jitter: number, offset = 0): number {
  return (Math.floor(jitter * BOX_IDS) + offset) % BOX_IDS;
}

/** The XX stage when the kernel refuses the stage's cgroup limit, else null. */
export function cgroupRefusal(limit: number, floorBytes: number, box: number): StageResult | null {
  const bytes = cgroupLimitBytes(limit);
  if (bytes === null || bytes >= floorBytes) return null;
  const message = `Cannot set /sys/fs/cgroup/memory/isolate/box-${box}/memory.limit_in_bytes to ${bytes}`;
  // isolate formats the value with a trailing newline, so its error text breaks before strerror
  const report = `${message}\n: Device or resource busy\n`;
  return { signal: null, stdout: '', stderr: report, code: null, output: report, memory: null, message, status: 'XX', cpu_time: null, wall_time: null };
}

/** The SG stage when the runtime needs more than the limit just to start (the kill comes before any output), else null. */
export function startupKill(limit: number, startup: { cpuMs: number; wallMs: number; memoryBytes: number }): StageResult | null {
  if (!(limit > 0) || startup.memoryBytes <= limit) return null;
  const cpu = Math.max(1, Math.round(startup.cpuMs * 0.35));
  const wall = Math.max(cpu, Math.round(startup.wallMs * 0.33));
  return { signal: 'SIGKILL', stdout: '', stderr: '', code: null, output: '', memory: limit, message: 'Caught fatal signal 9', status: 'SG', cpu_time: cpu, wall_time: wall };
}
