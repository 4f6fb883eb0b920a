/**
 * Workloads: the built-in mixes fitted to the runtimes a target offers, or a user's file of
 * weighted requests (JSON array, {"requests": [...]}, or JSONL).
 */
import { readFile } from 'node:fs/promises';
import semver from 'semver';
import { z } from 'zod';
import { LIMIT_NAMES } from '../piston/limits.js';
import { PistonFile } from '../piston/types.js';
import type { BenchRequest, RuntimeInfo } from './targets/target.js';
import { seededRandom } from '../util/random.js';

export const BUILTIN_WORKLOADS = ['hello', 'cpu', 'sleep', 'compile', 'mix'] as const;
export type BuiltinWorkload = (typeof BUILTIN_WORKLOADS)[number];

export interface WorkloadItem {
  name: string;
  weight: number;
  request: BenchRequest;
}

export interface Workload {
  name: string;
  items: WorkloadItem[];
}

type SingleBuiltin = Exclude<BuiltinWorkload, 'mix'>;

/** Programs per language, in order of preference. The sleep and cpu programs take ~50 ms on a real node. */
const PROGRAMS: Record<SingleBuiltin, [language: string, fileName: string, code: string][]> = {
  hello: [
    ['python', 'main.py', 'print("hello, world")\n'],
    ['javascript', 'main.js', 'console.log("hello, world");\n'],
    ['bash', 'main.sh', 'echo "hello, world"\n'],
    ['ruby', 'main.rb', 'puts "hello, world"\n'],
  ],
  // The pistom-sim comment gives simulated nodes the program's outcome and time; real nodes ignore it.
  cpu: [
    ['python', 'main.py', '# pistom-sim: {"stdout":"41666541666750000\\n","wall_ms":50,"cpu_ms":50}\ntotal = 0\nfor i in range(500_000):\n    total += i * i\nprint(total)\n'],
    ['javascript', 'main.js', '// pistom-sim: {"stdout":"59999997\\n","wall_ms":50,"cpu_ms":50}\nlet total = 0;\nfor (let i = 0; i < 20_000_000; i++) total += i % 7;\nconsole.log(total);\n'],
    ['bash', 'main.sh', '# pistom-sim: {"stdout":"199990000\\n","wall_ms":50,"cpu_ms":50}\ni=0; total=0\nwhile [ $i -lt 20000 ]; do total=$((total + i)); i=$((i + 1)); done\necho $total\n'],
    ['ruby', 'main.rb', '# pistom-sim: {"stdout":"41666541666750000\\n","wall_ms":50,"cpu_ms":50}\ntotal = 0\n500_000.times { |i| total += i * i }\nputs total\n'],
  ],
  sleep: [
    ['python', 'main.py', 'import time\ntime.sleep(0.05)\nprint("slept")\n'],
    ['javascript', 'main.js', 'setTimeout(() => console.log("slept"), 50);\n'],
    ['bash', 'main.sh', 'sleep 0.05\necho slept\n'],
    ['ruby', 'main.rb', 'sleep 0.05\nputs "slept"\n'],
  ],
  compile: [
    ['c', 'main.c', '#include <stdio.h>\nint main(void) {\n  puts("hello, world");\n  return 0;\n}\n'],
    ['c++', 'main.cpp', '#include <iostream>\nint main() {\n  std::cout << "hello, world" << std::endl;\n  return 0;\n}\n'],
    ['rust', 'main.rs', 'fn main() {\n    println!("hello, world");\n}\n'],
    ['go', 'main.go', 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello, world")\n}\n'],
    ['java', 'Main.java', 'public class Main {\n  public static void main(String[] args) {\n    System.out.println("hello, world");\n  }\n}\n'],
  ],
};

const MIX_WEIGHTS: Record<SingleBuiltin, number> = { hello: 4, cpu: 2, sleep: 2, compile: 2 };

export function isBuiltinWorkload(name: string): name is BuiltinWorkload {
  return (BUILTIN_WORKLOADS as readonly string[]).includes(name);
}

/** The runtime of `language` (by name or alias) with the highest version, if the target has it. */
export function findRuntime(runtimes: RuntimeInfo[], language: string): RuntimeInfo | undefined {
  const wanted = language.toLowerCase();
  const matching = runtimes.filter(
    (r) => r.language.toLowerCase() === wanted || r.aliases.some((a) => a.toLowerCase() === wanted),
  );
  return matching.sort((a, b) => compareVersions(b.version, a.version))[0];
}

function compareVersions(a: string, b: string): number {
  const va = semver.coerce(a);
  const vb = semver.coerce(b);
  if (va && vb) return semver.compare(va, vb);
  return a.localeCompare(b);
}

function fitSingle(kind: SingleBuiltin, runtimes: RuntimeInfo[]): WorkloadItem | undefined {
  for (const [language, fileName, code] of PROGRAMS[kind]) {
    const runtime = findRuntime(runtimes, language);
    if (runtime) {
      return {
        name: `${kind} (${runtime.language})`,
        weight: 1,
        request: { language: runtime.language, version: runtime.version, files: [{ name: fileName, content: code }] },
      };
    }
  }
  return undefined;
}

export function fitBuiltinWorkload(name: BuiltinWorkload, runtimes: RuntimeInfo[]): Workload {
  const kinds: SingleBuiltin[] = name === 'mix' ? ['hello', 'cpu', 'sleep', 'compile'] : [name];
  const items = kinds.flatMap((kind) => {
    const item = fitSingle(kind, runtimes);
    return item ? [{ ...item, weight: name === 'mix' ? MIX_WEIGHTS[kind] : 1 }] : [];
  });
  if (items.length === 0) {
    const wanted = [...new Set(kinds.flatMap((k) => PROGRAMS[k].map(([language]) => language)))].join(', ');
    const offered = runtimes.map((r) => `${r.language} ${r.version}`).join(', ') || 'none';
    throw new Error(`workload "${name}" needs one of ${wanted}; the target offers: ${offered}`);
  }
  return { name, items };
}

const Limits = Object.fromEntries(LIMIT_NAMES.map((name) => [name, z.number().optional()])) as Record<(typeof LIMIT_NAMES)[number], z.ZodOptional<z.ZodNumber>>;

const FileEntry = z
  .object({
    name: z.string().optional(),
    weight: z.number().positive().default(1),
    language: z.string().min(1),
    version: z.string().optional(),
    code: z.string().optional(),
    files: z.array(PistonFile).min(1).optional(),
    stdin: z.string().optional(),
    args: z.array(z.string()).optional(),
    ...Limits,
  })
  .refine((e) => (e.code === undefined) !== (e.files === undefined), 'give either "code" or "files"');

/** Accepts {weight, name, request: {...}} as well as the flat form. */
function flatten(entry: unknown): unknown {
  if (entry && typeof entry === 'object' && 'request' in entry) {
    const { request, ...rest } = entry as { request: unknown };
    return request && typeof request === 'object' ? { ...request, ...rest } : entry;
  }
  return entry;
}

export function parseWorkloadFile(text: string, fileName: string): Workload {
  const entries = parseEntries(text, fileName);
  if (entries.length === 0) throw new Error(`${fileName}: no requests`);
  const items = entries.map((raw, index) => {
    const parsed = FileEntry.safeParse(flatten(raw));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` (${issue.path.join('.')})` : '';
      throw new Error(`${fileName}: request ${index + 1}${where}: ${issue?.message ?? 'invalid'}`);
    }
    const { name, weight, code, files, ...rest } = parsed.data;
    const request: BenchRequest = { ...rest, files: files ?? [{ content: code ?? '' }] };
    return { name: name ?? `${index + 1}: ${request.language}`, weight, request };
  });
  return { name: fileName, items };
}

function parseEntries(text: string, fileName: string): unknown[] {
  const trimmed = text.trim();
  if (fileName.endsWith('.jsonl') || fileName.endsWith('.ndjson')) {
    return trimmed
      .split('\n')
      .map((line, index) => ({ line: line.trim(), index }))
      .filter(({ line }) => line.length > 0 && !line.startsWith('//'))
      .map(({ line, index }) => {
        try {
          return JSON.parse(line) as unknown;
        } catch (error) {
          throw new Error(`${fileName}:${index + 1}: not JSON (${(error as Error).message})`, { cause: error });
        }
      });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw new Error(`${fileName}: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { requests?: unknown }).requests)) {
    return (parsed as { requests: unknown[] }).requests;
  }
  return [parsed];
}

export async function loadWorkload(spec: string, runtimes: RuntimeInfo[], fillVersions: boolean): Promise<Workload> {
  if (isBuiltinWorkload(spec)) return fitBuiltinWorkload(spec, runtimes);
  const workload = parseWorkloadFile(await readFile(spec, 'utf8'), spec);
  if (!fillVersions) return workload;
  return {
    ...workload,
    items: workload.items.map((item) => ({
      ...item,
      request: {
        ...item.request,
        version: item.request.version ?? findRuntime(runtimes, item.request.language)?.version ?? '*',
      },
    })),
  };
}

/** Picks items by weight with a seeded generator, so two runs with one seed send the same sequence. */
export function createPicker(items: WorkloadItem[], seed: number): () => WorkloadItem {
  const cumulative: number[] = [];
  let total = 0;
  for (const item of items) cumulative.push((total += item.weight));
  const random = seededRandom(seed);
  return () => {
    if (items.length === 1) return items[0]!;
    const x = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo]!;
  };
}
