/** The model's reading of JavaScript/TypeScript programs (node and deno), with a tiny event loop. */
import { parseBraceBlocks, type Stmt } from './blocks.js';
import { Interpreter, type Language } from './interp.js';
import { Exit, SignalDeath } from './process.js';
import type { ProgramContext } from './context.js';
import { StdinReader } from './python.js';
import { Unmodelled } from './syntax.js';
import { ExcValue, Func, Native, Obj, Scope, jsFormat, jsString, toNumber, type Value } from './values.js';

const ERROR_NAME = /^(?:[A-Z]\w*)?(?:Error|Exception)$/;

export function jsLanguage(): Language {
  return {
    dialect: 'js',
    statementCostMs: 0.00001,
    parseBlock: parseBraceBlocks,
    str: jsString,
    isExceptionClass: (name) => ERROR_NAME.test(name),
    undefinedName: (name) => new ExcValue('ReferenceError', `${name} is not defined`),
    statement: jsStatement,
  };
}

function jsStatement(stmt: Stmt, scope: Scope, interp: Interpreter): boolean {
  const text = stmt.text;
  if (/^(import\s|export\s+\{|'use strict'|"use strict"|type\s+\w+\s*=|interface\s)/.test(text)) {
    const m = /^import\s+(?:\*\s+as\s+)?(\w+)\s+from\s+['"](?:node:)?(\w+)['"]/.exec(text);
    if (m) scope.set(m[1]!, requireModule(scope, m[2]!));
    return true;
  }
  // const { a, b } = require('x') / destructuring
  const destructure = /^(?:const|let|var)\s+\{([^}]*)\}\s*=\s*(.+)$/s.exec(text);
  if (destructure) {
    const source = interp.evalText(destructure[2]!, scope);
    for (const name of destructure[1]!.split(',').map((s) => s.trim().split(':')[0]!.trim()).filter(Boolean)) {
      scope.set(name, source instanceof Obj ? source.fields[name] : undefined);
    }
    return true;
  }
  // TypeScript annotations on declarations: `const x: number = 1`
  const typed = /^((?:const|let|var)\s+\w+)\s*:\s*[^=]+=(.+)$/s.exec(text);
  if (typed) return interp.assignment(`${typed[1]} = ${typed[2]}`, scope);
  return false;
}

function requireModule(scope: Scope, name: string): Value {
  const mods = scope.get('__modules__') as Obj;
  const mod = mods.fields[name.replace(/^node:/, '')];
  if (mod === undefined) throw new Unmodelled(`module ${name}`);
  return mod;
}

interface Task {
  at: number;
  run: () => void;
}

export function jsGlobals(ctx: ProgramContext, interp: Interpreter, deno: boolean): { scope: Scope; tasks: Task[] } {
  const { proc, job } = ctx;
  const scope = new Scope();
  const stdin = new StdinReader(job.stdin);
  const tasks: Task[] = [];
  const native = (name: string, fn: (args: Value[]) => Value): Native => new Native(name, (a) => fn(a));
  const call = (fn: Value, args: Value[]): void => {
    interp.call(fn, args, new Map());
  };
  const later = (delayMs: number, run: () => void): void => {
    tasks.push({ at: proc.wall + Math.max(delayMs, 0), run });
  };
  const log = (stream: 'stdout' | 'stderr') => native('log', (a) => {
    proc.write(stream, `${jsFormat(a)}\n`);
    return undefined;
  });
  const console = new Obj('console', { log: log('stdout'), info: log('stdout'), debug: log('stdout'), error: log('stderr'), warn: log('stderr'), trace: log('stderr') });
  const streamWriter = (stream: 'stdout' | 'stderr'): Obj =>
    new Obj('stream', {
      write: native('write', (a) => {
        proc.write(stream, jsString(a[0]));
        return true;
      }),
    });
  const dataListeners = (event: Value, fn: Value): void => {
    if (event === 'data') later(0, () => call(fn, [job.stdin]));
    else if (event === 'end' || event === 'close') later(0, () => call(fn, []));
    else if (event === 'readable') later(0, () => call(fn, []));
  };
  const processStdin: Obj = new Obj('stdin', {
    on: native('on', (a): Value => {
      dataListeners(a[0], a[1]);
      return processStdin;
    }),
    once: native('once', (a): Value => {
      dataListeners(a[0], a[1]);
      return processStdin;
    }),
    setEncoding: native('setEncoding', () => undefined),
    resume: native('resume', () => undefined),
    read: native('read', () => stdin.rest() || null),
    fd: 0,
  });
  const nodePath = `/piston/packages/node/${job.runtime.version}/bin/node`;
  const process = new Obj('process', {
    stdout: streamWriter('stdout'),
    stderr: streamWriter('stderr'),
    stdin: processStdin,
    argv: [nodePath, `/box/submission/${job.main.name}`, ...job.args],
    version: `v${job.runtime.version}`,
    versions: new Obj('versions', { node: job.runtime.version }),
    pid: 3,
    platform: 'linux',
    env: new Obj('env', { HOME: '/tmp' }),
    exit: native('exit', (a) => {
      throw new Exit(Math.trunc(toNumber(a[0] ?? 0)) & 255);
    }),
    kill: native('kill', (a) => {
      throw new SignalDeath(typeof a[1] === 'string' ? a[1] : 'SIGTERM');
    }),
    abort: native('abort', () => {
      throw new SignalDeath('SIGABRT');
    }),
    on: native('on', () => undefined),
    hrtime: new Obj('hrtime', { bigint: native('bigint', () => BigInt(Math.round(proc.wall * 1e6))) }),
    exitCode: undefined,
  });
  const readFileSync = native('readFileSync', (a) => {
    const target = a[0];
    if (target === 0 || target === '/dev/stdin' || target === 0n) return stdin.rest();
    const file = job.files.find((f) => f.name === String(target).replace(/^\.\//, ''));
    if (!file) interp.throwExc(new ExcValue('Error', `ENOENT: no such file or directory, open '${String(target)}'`));
    const bytes = Buffer.from(file!.content, file!.encoding);
    return a[1] === undefined ? Uint8Array.from(bytes) : bytes.toString('utf8');
  });
  const fs = new Obj('module fs', { readFileSync, writeFileSync: native('writeFileSync', () => undefined), existsSync: native('existsSync', (a) => job.files.some((f) => f.name === String(a[0]))) });
  const readline = new Obj('module readline', {
    createInterface: native('createInterface', () => {
      const rl: Obj = new Obj('Interface', {});
      rl.fields.on = native('on', (a) => {
        if (a[0] === 'line') later(0, () => stdin.lines().forEach((line) => call(a[1], [line.replace(/\n$/, '')])));
        else if (a[0] === 'close') later(1, () => call(a[1], []));
        return rl;
      });
      rl.fields.close = native('close', () => undefined);
      rl.fields.question = native('question', (a) => {
        proc.write('stdout', jsString(a[0]));
        const line = stdin.line(false);
        later(0, () => call(a[1], [line ?? '']));
        return undefined;
      });
      return rl;
    }),
  });
  const refused = native('connect', () => interp.throwExc(new ExcValue('Error', 'connect ECONNREFUSED 127.0.0.1:80')));
  const setTimeoutFn = native('setTimeout', (a) => {
    later(toNumber(a[1] ?? 0), () => call(a[0], a.slice(2)));
    return 1;
  });
  const setIntervalFn = native('setInterval', (a) => {
    const every = Math.max(1, toNumber(a[1] ?? 0));
    const tick = (): void => {
      call(a[0], []);
      later(every, tick);
    };
    later(every, tick);
    return 1;
  });
  const modules = new Obj('modules', { fs, readline, net: new Obj('module net', { connect: refused, createConnection: refused }), http: new Obj('module http', { get: refused, request: refused }), child_process: new Obj('module child_process', {}) });
  const buffer = new Obj('Buffer', {
    alloc: native('alloc', (a) => {
      const n = Math.max(0, toNumber(a[0]));
      proc.alloc(n);
      proc.burn(n / 1_000_000);
      return new Uint8Array(Math.min(n, 1024));
    }),
    from: native('from', (a) => Uint8Array.from(Buffer.from(jsString(a[0]), (a[1] as BufferEncoding | undefined) ?? 'utf8'))),
  });
  const array = native('Array', (a) => {
    const n = toNumber(a[0] ?? 0);
    proc.alloc(n * 8);
    if (n > 1_000_000) throw new Unmodelled('huge array');
    return new Array<Value>(n).fill(undefined);
  });
  const globals: Record<string, Value> = {
    console,
    process,
    require: native('require', (a) => requireModule(scope, jsString(a[0]))),
    setTimeout: setTimeoutFn,
    setInterval: setIntervalFn,
    setImmediate: native('setImmediate', (a) => {
      later(0, () => call(a[0], []));
      return 1;
    }),
    queueMicrotask: native('queueMicrotask', (a) => {
      later(0, () => call(a[0], []));
      return undefined;
    }),
    clearTimeout: native('clearTimeout', () => undefined),
    clearInterval: native('clearInterval', () => {
      tasks.length = 0;
      return undefined;
    }),
    'new Promise': native('Promise', (a) => {
      call(a[0], [native('resolve', () => undefined), native('reject', (r) => interp.throwExc(r[0] instanceof ExcValue ? r[0] : new ExcValue('Error', jsString(r[0]))))]);
      return new Obj('Promise');
    }),
    'new Array': array,
    Array: new Obj('Array', { from: native('from', (a) => (Array.isArray(a[0]) ? [...a[0]] : typeof a[0] === 'string' ? [...a[0]] : [])), isArray: native('isArray', (a) => Array.isArray(a[0])) }),
    Buffer: buffer,
    Math: new Obj('Math', {
      floor: native('floor', (a) => Math.floor(toNumber(a[0]))),
      ceil: native('ceil', (a) => Math.ceil(toNumber(a[0]))),
      round: native('round', (a) => Math.round(toNumber(a[0]))),
      sqrt: native('sqrt', (a) => Math.sqrt(toNumber(a[0]))),
      abs: native('abs', (a) => Math.abs(toNumber(a[0]))),
      max: native('max', (a) => Math.max(...a.map(toNumber))),
      min: native('min', (a) => Math.min(...a.map(toNumber))),
      pow: native('pow', (a) => toNumber(a[0]) ** toNumber(a[1])),
      PI: Math.PI,
    }),
    JSON: new Obj('JSON', {
      stringify: native('stringify', (a) => JSON.stringify(a[0], (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? undefined),
    }),
    String: native('String', (a) => jsString(a[0])),
    Number: native('Number', (a) => Number(jsString(a[0]))),
    parseInt: native('parseInt', (a) => parseInt(jsString(a[0]), a[1] === undefined ? 10 : toNumber(a[1]))),
    parseFloat: native('parseFloat', (a) => parseFloat(jsString(a[0]))),
    fetch: native('fetch', () => interp.throwExc(new ExcValue('TypeError', 'fetch failed'))),
    undefined,
    null: null,
    true: true,
    false: false,
    NaN: Number.NaN,
    Infinity,
    __modules__: modules,
  };
  if (deno) {
    globals.Deno = new Obj('Deno', {
      exit: process.fields.exit!,
      args: [...job.args],
      version: new Obj('version', { deno: job.runtime.version }),
      readTextFileSync: readFileSync,
    });
  }
  for (const [name, value] of Object.entries(globals)) scope.define(name, value);
  return { scope: new Scope(scope), tasks };
}

/** Runs the script, then the event loop: stdin listeners and timers in due order. */
export function runJs(ctx: ProgramContext, interp: Interpreter, stmts: Stmt[], tasks: Task[]): void {
  interp.run(stmts, ctx.globals);
  let turns = 0;
  while (tasks.length > 0) {
    tasks.sort((a, b) => a.at - b.at);
    const task = tasks.shift()!;
    if (task.at > ctx.proc.wall) ctx.proc.sleep(task.at - ctx.proc.wall);
    if (++turns > 100_000) ctx.proc.loopForever(false);
    task.run();
    ctx.proc.statementDone();
  }
}

/** Node's report of an uncaught exception. */
export function nodeUncaught(exc: ExcValue, fileName: string, line: number, text: string, version: string): string {
  const path = `/box/submission/${fileName}`;
  const column = Math.max(1, text.indexOf('new ') + 1 || text.indexOf('throw') + 7);
  const firstLine = text.split('\n')[0]!;
  return (
    `${path}:${line}\n${firstLine}\n^\n\n${exc.type}: ${exc.message}\n` +
    `    at Object.<anonymous> (${path}:${line}:${column})\n` +
    '    at Module._compile (node:internal/modules/cjs/loader:1554:14)\n' +
    '    at Object..js (node:internal/modules/cjs/loader:1706:10)\n' +
    '    at Module.load (node:internal/modules/cjs/loader:1289:32)\n' +
    '    at Function._load (node:internal/modules/cjs/loader:1108:12)\n' +
    '    at TracingChannel.traceSync (node:diagnostics_channel:322:14)\n' +
    '    at wrapModuleLoad (node:internal/modules/cjs/loader:220:24)\n' +
    '    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:170:5)\n' +
    '    at node:internal/main/run_main_module:36:49\n\n' +
    `Node.js v${version}\n`
  );
}

export { Func };
