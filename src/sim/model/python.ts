/** The model's reading of Python programs (python, python2, yeethon). */
import { parsePythonBlocks, type Stmt } from './blocks.js';
import { Interpreter, ThrowSignal, type Language } from './interp.js';
import { Exit, SignalDeath, signalName, type SimProcess } from './process.js';
import { Unmodelled } from './syntax.js';
import type { ProgramContext } from './context.js';
import { ExcValue, Native, Obj, Scope, isInt, pyRepr, pyStr, toInt, toNumber, truthy, type Value } from './values.js';

const EXCEPTION_NAME = /^(?:[A-Z]\w*)?(?:Error|Exception|Exit|Interrupt|Warning)$/;

export function pythonLanguage(): Language {
  return {
    dialect: 'python',
    statementCostMs: 0.00005,
    parseBlock: parsePythonBlocks,
    str: pyStr,
    isExceptionClass: (name) => EXCEPTION_NAME.test(name),
    undefinedName: (name) => new ExcValue('NameError', `name '${name}' is not defined`),
    statement: pythonStatement,
  };
}

function pythonStatement(stmt: Stmt, scope: Scope, interp: Interpreter): boolean {
  const text = stmt.text;
  let m: RegExpExecArray | null;
  if ((m = /^import\s+(.+)$/.exec(text))) {
    for (const part of m[1]!.split(',')) {
      const [modName, alias] = part.trim().split(/\s+as\s+/);
      const top = alias ?? modName!.split('.')[0]!;
      scope.set(top, importModule(alias ? modName! : modName!.split('.')[0]!, scope));
    }
    return true;
  }
  if ((m = /^from\s+([\w.]+)\s+import\s+\(?(.+?)\)?$/s.exec(text))) {
    const from = m[1]!;
    for (const part of m[2]!.split(',')) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (!name || name === '*') continue;
      const sub = modules(scope).get(`${from}.${name}`);
      const mod = importModule(from, scope);
      const value = sub ?? (mod instanceof Obj && name in mod.fields ? mod.fields[name] : undefined);
      if (value === undefined) throw new Unmodelled(`import ${name}`);
      scope.set(alias ?? name, value);
    }
    return true;
  }
  if (/^(global|nonlocal|del)\b/.test(text)) return true;
  if ((m = /^assert\s+(.+?)(?:\s*,\s*(.+))?$/s.exec(text))) {
    if (!truthy(interp.evalText(m[1]!, scope))) {
      interp.throwExc(new ExcValue('AssertionError', m[2] ? pyStr(interp.evalText(m[2], scope)) : '', Boolean(m[2])));
    }
    return true;
  }
  if ((m = /^raise\s*(.*)$/s.exec(text))) {
    const what = m[1]!.replace(/\s+from\s+.*$/s, '').trim();
    if (!what) interp.throwExc(new ExcValue('RuntimeError', 'No active exception to reraise'));
    const value = interp.evalText(what, scope);
    if (value instanceof ExcValue) interp.throwExc(value);
    if (value instanceof Native && EXCEPTION_NAME.test(value.name)) interp.throwExc(new ExcValue(value.name, '', false));
    interp.throwExc(new ExcValue('TypeError', 'exceptions must derive from BaseException'));
  }
  if ((m = /^print\s+(?!\()(.+)$/s.exec(text))) {
    // python 2 print statement
    const write = scope.get('print');
    interp.call(write, interp.evalText(`(${m[1]},)`, scope) as Value[], new Map());
    return true;
  }
  return false;
}

function modules(scope: Scope): Map<string, Value> {
  return (scope.get('__modules__') as Obj).fields.map as unknown as Map<string, Value>;
}

function importModule(name: string, scope: Scope): Value {
  const known = modules(scope).get(name);
  if (known !== undefined) return known;
  return new Obj(`module ${name}`);
}

/** Builds python's builtins and the modules the model knows, bound to one program run. */
export function pythonGlobals(ctx: ProgramContext, interp: Interpreter): Scope {
  const { proc, job } = ctx;
  const scope = new Scope();
  const stdin = new StdinReader(job.stdin);
  const raise = (type: string, message: string): never => interp.throwExc(new ExcValue(type, message));
  const write = (stream: 'stdout' | 'stderr', text: string): void => proc.write(stream, text);
  const native = (name: string, fn: (args: Value[], kwargs: Map<string, Value>) => Value): Native => new Native(name, fn);

  const print = native('print', (args, kw) => {
    const sep = kw.has('sep') && kw.get('sep') !== null ? pyStr(kw.get('sep')) : ' ';
    const end = kw.has('end') && kw.get('end') !== null ? pyStr(kw.get('end')) : '\n';
    const file = kw.get('file');
    const stream = file instanceof Obj && file.kind === 'stderr' ? 'stderr' : 'stdout';
    const text = args.map(pyStr).join(sep);
    write(stream, text);
    write(stream, end);
    if (kw.get('flush') === true && stream === 'stdout') proc.flush();
    return null;
  });
  const stream = (kind: 'stdout' | 'stderr'): Obj =>
    new Obj(kind, {
      write: native('write', (a) => {
        if (typeof a[0] !== 'string') raise('TypeError', `write() argument must be str, not ${typeof a[0] === 'bigint' ? 'int' : 'bytes'}`);
        write(kind, a[0] as string);
        return BigInt((a[0] as string).length);
      }),
      flush: native('flush', () => (kind === 'stdout' ? proc.flush() : undefined) ?? null),
    });
  const stdoutObj = stream('stdout');
  const stderrObj = stream('stderr');
  const exit = native('exit', (a) => {
    const code = a[0];
    if (code === undefined || code === null) throw new Exit(0);
    if (isInt(code) || typeof code === 'boolean') throw new Exit(Number(toInt(code)) & 255);
    write('stderr', `${pyStr(code)}\n`);
    throw new Exit(1);
  });
  const argv: Value[] = [job.main.name, ...job.args];
  const sys = new Obj('module sys', {
    argv,
    stdout: stdoutObj,
    stderr: stderrObj,
    stdin: new Obj('stdin', {
      read: native('read', () => stdin.rest()),
      readline: native('readline', () => stdin.line(true) ?? ''),
      readlines: native('readlines', () => stdin.lines()),
      __iter__: [],
    }),
    exit,
    version: `${job.runtime.version} (main, Mar 13 2023, 12:00:00) [GCC 12.2.0]`,
    platform: 'linux',
    maxsize: 9223372036854775807n,
  });
  // `for line in sys.stdin` iterates the remaining lines
  Object.defineProperty((sys.fields.stdin as Obj).fields, '__iter__', { get: () => stdin.lines(), enumerable: true });

  const kill = (sig: Value): never => {
    const name = signalName(Number(toInt(sig))) ?? 'SIGKILL';
    throw new SignalDeath(name);
  };
  const os = new Obj('module os', {
    getpid: native('getpid', () => 3n),
    kill: native('kill', (a) => kill(a[1] ?? 15n)),
    abort: native('abort', () => kill(6n)),
    _exit: native('_exit', (a) => {
      proc.discardBuffered();
      throw new Exit(Number(toInt(a[0] ?? 0n)) & 255);
    }),
    environ: new Obj('dict', { HOME: '/tmp', PATH: '/usr/local/bin:/usr/bin:/bin' }),
    getcwd: native('getcwd', () => '/box/submission'),
    listdir: native('listdir', () => job.files.map((f) => f.name.split('/')[0]!).filter((n, i, all) => all.indexOf(n) === i)),
  });
  const signal = new Obj('module signal', { SIGTERM: 15n, SIGKILL: 9n, SIGINT: 2n, SIGSEGV: 11n, SIGABRT: 6n, SIGHUP: 1n, SIGUSR1: 10n });
  const time = new Obj('module time', {
    sleep: native('sleep', (a) => {
      proc.sleep(toNumber(a[0]) * 1000);
      return null;
    }),
    time: native('time', () => 1_767_225_600 + proc.wall / 1000),
    perf_counter: native('perf_counter', () => proc.wall / 1000),
    monotonic: native('monotonic', () => proc.wall / 1000),
  });
  const refused = (host: Value): never => {
    const h = Array.isArray(host) ? pyStr(host[0]) : pyStr(host);
    if (/^[\d.]+$|^localhost$|^::1$/.test(h)) raise('ConnectionRefusedError', '[Errno 111] Connection refused');
    return raise('gaierror', '[Errno -3] Temporary failure in name resolution');
  };
  const socketObj = new Obj('socket', {
    connect: native('connect', (a) => refused(a[0])),
    settimeout: native('settimeout', () => null),
    close: native('close', () => null),
  });
  const socket = new Obj('module socket', {
    create_connection: native('create_connection', (a) => refused(a[0])),
    socket: native('socket', () => socketObj),
    gethostbyname: native('gethostbyname', (a) => refused(a[0])),
    AF_INET: 2n,
    SOCK_STREAM: 1n,
  });
  const urlopen = native('urlopen', () => raise('URLError', '<urlopen error [Errno -3] Temporary failure in name resolution>'));
  const math = new Obj('module math', {
    pi: Math.PI,
    e: Math.E,
    inf: Infinity,
    sqrt: native('sqrt', (a) => Math.sqrt(toNumber(a[0]))),
    floor: native('floor', (a) => BigInt(Math.floor(toNumber(a[0])))),
    ceil: native('ceil', (a) => BigInt(Math.ceil(toNumber(a[0])))),
    factorial: native('factorial', (a) => {
      let r = 1n;
      for (let i = 2n; i <= toInt(a[0]); i++) r *= i;
      return r;
    }),
    gcd: native('gcd', (a) => {
      let [x, y] = [toInt(a[0]), toInt(a[1])];
      while (y) [x, y] = [y, x % y];
      return x < 0n ? -x : x;
    }),
  });
  const mods = new Map<string, Value>([
    ['sys', sys],
    ['os', os],
    ['signal', signal],
    ['time', time],
    ['socket', socket],
    ['math', math],
    ['urllib', new Obj('module urllib', { request: new Obj('module urllib.request', { urlopen }) })],
    ['urllib.request', new Obj('module urllib.request', { urlopen })],
    ['requests', new Obj('module requests', { get: native('get', () => raise('ConnectionError', 'Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')) })],
  ]);
  for (const file of job.files) {
    if (file === job.main || !file.name.endsWith('.py')) continue;
    const modName = file.name.replace(/\.py$/, '').replace(/\/__init__$/, '').replace(/\//g, '.');
    mods.set(modName, new LazyModule(ctx, interp, file.content, modName).obj);
  }
  scope.define('__modules__', new Obj('modules', { map: mods as unknown as Value }));

  const builtins: Record<string, Value> = {
    print,
    input: native('input', (a) => {
      if (a.length) write('stdout', pyStr(a[0]));
      const line = stdin.line(false);
      if (line === null) raise('EOFError', 'EOF when reading a line');
      return line;
    }),
    len: native('len', (a) => {
      const v = a[0];
      if (typeof v === 'string' || Array.isArray(v) || v instanceof Uint8Array) return BigInt(v.length);
      if (v instanceof Obj && v.kind === 'dict') return BigInt(Object.keys(v.fields).length);
      if (v instanceof Obj && v.kind === 'range') return BigInt(interp.iterationOf(v).count);
      throw new Unmodelled('len');
    }),
    str: native('str', (a) => (a.length ? pyStr(a[0]) : '')),
    repr: native('repr', (a) => pyRepr(a[0])),
    int: native('int', (a) => {
      const v = a[0];
      if (typeof v === 'string') {
        if (!/^\s*[-+]?\d+\s*$/.test(v)) raise('ValueError', `invalid literal for int() with base 10: ${pyRepr(v)}`);
        return BigInt(v.trim());
      }
      return toInt(v ?? 0n);
    }),
    float: native('float', (a) => {
      const v = a[0];
      if (typeof v === 'string' && Number.isNaN(Number(v))) raise('ValueError', `could not convert string to float: ${pyRepr(v)}`);
      return toNumber(v ?? 0);
    }),
    bool: native('bool', (a) => truthy(a[0])),
    abs: native('abs', (a) => (isInt(a[0]) ? (a[0] < 0n ? -a[0] : a[0]) : Math.abs(toNumber(a[0])))),
    ord: native('ord', (a) => BigInt((a[0] as string).codePointAt(0) ?? 0)),
    chr: native('chr', (a) => String.fromCodePoint(Number(toInt(a[0])))),
    hex: native('hex', (a) => `0x${toInt(a[0]).toString(16)}`),
    range: native('range', (a) => {
      const [start, stop, step] = a.length === 1 ? [0n, toInt(a[0]), 1n] : [toInt(a[0]), toInt(a[1]), a[2] === undefined ? 1n : toInt(a[2])];
      return new Obj('range', { start, stop, step });
    }),
    list: native('list', (a) => {
      if (a.length === 0) return [];
      const { values, count } = interp.iterationOf(a[0]);
      proc.alloc(count * 8);
      if (count > 5_000_000) throw new Unmodelled('huge list');
      return [...values];
    }),
    sum: native('sum', (a) => [...interp.iterationOf(a[0]).values].reduce<Value>((acc, v) => interp.binary('+', acc, v), 0n)),
    min: native('min', (a) => (a.length === 1 ? [...interp.iterationOf(a[0]).values] : a).reduce((x, y) => (truthy(interp.binary('<', y, x)) ? y : x))),
    max: native('max', (a) => (a.length === 1 ? [...interp.iterationOf(a[0]).values] : a).reduce((x, y) => (truthy(interp.binary('>', y, x)) ? y : x))),
    sorted: native('sorted', (a) => [...interp.iterationOf(a[0]).values].sort((x, y) => (truthy(interp.binary('<', x, y)) ? -1 : truthy(interp.binary('>', x, y)) ? 1 : 0))),
    bytearray: native('bytearray', (a) => allocBytes(proc, a[0])),
    bytes: native('bytes', (a) => (typeof a[0] === 'string' ? Uint8Array.from(Buffer.from(a[0])) : allocBytes(proc, a[0]))),
    open: native('open', (a) => openFile(ctx, raise, pyStr(a[0]), a[1] === undefined ? 'r' : pyStr(a[1]))),
    exit,
    quit: exit,
    isinstance: native('isinstance', () => true),
    type: native('type', (a) => `<class '${typeof a[0] === 'string' ? 'str' : isInt(a[0]) ? 'int' : 'object'}'>`),
    __name__: '__main__',
    True: true,
    False: false,
    None: null,
  };
  for (const [name, value] of Object.entries(builtins)) scope.define(name, value);
  return new Scope(scope);
}

function allocBytes(proc: SimProcess, size: Value): Uint8Array {
  const n = Math.max(0, Number(toInt(size ?? 0n)));
  proc.burn(n / 3_000_000);
  proc.alloc(n);
  return new Uint8Array(Math.min(n, 1024));
}

function openFile(ctx: ProgramContext, raise: (t: string, m: string) => never, name: string, mode: string): Obj {
  const path = name.replace(/^\/box\/submission\//, '').replace(/^\.\//, '');
  if (/[wax]/.test(mode)) {
    return new Obj('file', { write: new Native('write', (a) => BigInt(String(a[0]).length)), close: new Native('close', () => null), read: new Native('read', () => '') });
  }
  const file = ctx.job.files.find((f) => f.name === path);
  if (!file) raise('FileNotFoundError', `[Errno 2] No such file or directory: '${name}'`);
  const bytes = Buffer.from(file!.content, file!.encoding);
  const content: Value = mode.includes('b') ? Uint8Array.from(bytes) : bytes.toString('utf8');
  return new Obj('file', {
    read: new Native('read', () => content),
    readlines: new Native('readlines', () => (typeof content === 'string' ? content.split(/(?<=\n)/) : [])),
    close: new Native('close', () => null),
    __iter__: typeof content === 'string' ? content.split(/(?<=\n)/) : [],
  });
}

/** A user module from another submitted file, executed on first attribute access. */
class LazyModule {
  readonly obj: Obj;
  private loaded = false;

  constructor(ctx: ProgramContext, interp: Interpreter, source: string, name: string) {
    const fields: Record<string, Value> = {};
    this.obj = new Obj(`module ${name}`, fields);
    const load = (): void => {
      if (this.loaded) return;
      this.loaded = true;
      const scope = new Scope(ctx.globals);
      try {
        interp.run(parsePythonBlocks(source), scope);
      } catch (error) {
        if (!(error instanceof ThrowSignal)) throw error;
        interp.throwExc(error.exc);
      }
      for (const [k, v] of scope.entries()) fields[k] = v;
    };
    // Touching any attribute loads the module first.
    this.obj = new Proxy(this.obj, {
      get(target, prop, receiver) {
        if (prop === 'fields') load();
        return Reflect.get(target, prop, receiver);
      },
    });
  }
}

export class StdinReader {
  private at = 0;
  constructor(private readonly text: string) {}
  /** The next line without (or with) its newline; null at end of input. */
  line(keepNewline: boolean): string | null {
    if (this.at >= this.text.length) return null;
    const nl = this.text.indexOf('\n', this.at);
    const end = nl === -1 ? this.text.length : nl + 1;
    const line = this.text.slice(this.at, end);
    this.at = end;
    return keepNewline ? line : line.replace(/\r?\n$/, '');
  }
  rest(): string {
    const rest = this.text.slice(this.at);
    this.at = this.text.length;
    return rest;
  }
  lines(): string[] {
    const lines: string[] = [];
    for (let l = this.line(true); l !== null; l = this.line(true)) lines.push(l);
    return lines;
  }
  /** The next whitespace-separated token (scanf, cin >>, Scanner.next). */
  token(): string | null {
    const m = /^\s*(\S+)/.exec(this.text.slice(this.at));
    if (!m) return null;
    this.at += m[0].length;
    return m[1]!;
  }
}

/** Python's report of an uncaught exception. */
export function pythonTraceback(error: ThrowSignal, fileName: string, source: string): string {
  const lines = source.split('\n');
  let out = 'Traceback (most recent call last):\n';
  for (const frame of error.frames) {
    out += `  File "/box/submission/${fileName}", line ${frame.line}, in ${frame.fn}\n`;
    const text = (lines[frame.line - 1] ?? frame.text).trim();
    if (text) out += `    ${text}\n`;
  }
  const { exc } = error;
  return `${out}${exc.hasMessage && exc.message !== '' ? `${exc.type}: ${exc.message}` : exc.type}\n`;
}
