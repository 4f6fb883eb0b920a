/** The model's reading of C and C++ programs (gcc): compile errors, printf/iostream, main's return. */
import { parseBraceBlocks, stripCComments, type Stmt } from './blocks.js';
import { Interpreter, NOT_HANDLED, ReturnSignal, type Language } from './interp.js';
import { Exit, SignalDeath, signalName } from './process.js';
import type { ProgramContext } from './context.js';
import { StdinReader } from './python.js';
import { Unmodelled, type Expr } from './syntax.js';
import { ExcValue, Func, Native, Obj, Ref, Scope, isInt, plainString, printf, toInt, toNumber, type Value } from './values.js';

const TYPE_WORDS = /^(?:(?:const|static|unsigned|signed|long|short|volatile|register|struct\s+\w+|std::(?:string|vector|map|set|array|size_t|unordered_map|pair|uint\d+_t|int\d+_t)\b(?:<[^>]*>)?|int|char|double|float|bool|void|size_t|auto|string|vector<[^>]*>|uint\d+_t|int\d+_t)\b\s*)+/;

function cString(v: Value): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (v === true) return '1';
  if (v === false) return '0';
  return plainString(v);
}

export function cLanguage(cpp: boolean): Language {
  return {
    dialect: 'c',
    statementCostMs: 0.000002,
    parseBlock: parseBraceBlocks,
    str: cString,
    isExceptionClass: (name) => cpp && /(_error|exception|Exception)$/.test(name),
    statement: cStatement,
    binaryHook: streamOperator,
  };
}

function cStatement(stmt: Stmt, scope: Scope, interp: Interpreter): boolean {
  const text = stmt.text;
  if (/^(using|typedef|template|extern|struct\s+\w+\s*$|class\s+\w+\s*$)/.test(text)) return true;
  const inline = /^(if|while|for)\s*\(/.exec(text);
  if (inline) {
    const close = matchingParen(text, text.indexOf('('));
    const rest = text.slice(close + 1).trim();
    if (rest) {
      const header = text.slice(0, close + 1);
      const body = [{ text: rest, line: stmt.line }];
      interp.run([{ text: header, line: stmt.line, body }], scope);
      return true;
    }
  }
  // declarations without initializer: `int x;`, `char buf[100];`, `int a, b;`
  const decl = TYPE_WORDS.exec(text);
  if (decl && decl[0].length < text.length && !/[=(]/.test(text.slice(decl[0].length))) {
    const isString = /char|string/.test(decl[0]);
    for (const part of text.slice(decl[0].length).split(',')) {
      const name = /^[\s*&]*(\w+)/.exec(part)?.[1];
      if (!name) continue;
      const isArray = part.includes('[');
      scope.define(name, isString && (isArray || /string/.test(decl[0])) ? '' : isArray ? [] : /double|float/.test(decl[0]) ? 0 : 0n);
    }
    return true;
  }
  // `int a = 1, b = 2;`
  if (decl && text.includes(',') && /^\s*[\w*&]+\s*=/.test(text.slice(decl[0].length)) && !/\(/.test(text)) {
    for (const part of text.slice(decl[0].length).split(',')) interp.assignment(part.trim(), scope);
    return true;
  }
  if (decl && /^\s*[*&]*\w+(\[[^\]]*\])?\s*=/.test(text.slice(decl[0].length))) {
    const rest = text.slice(decl[0].length).replace(/^\s*[*&]*/, '');
    if (interp.assignment(rest, scope)) return true;
  }
  // `std::string s(5, 'x');`
  if (decl && /^\s*\w+\s*\(.*\)$/.test(text.slice(decl[0].length))) return true;
  return false;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length;
}

function streamOperator(op: string, left: Value, right: Expr, scope: Scope, interp: Interpreter): Value | typeof NOT_HANDLED {
  if (!(left instanceof Obj)) return NOT_HANDLED;
  if (op === '<<' && left.kind === 'ostream') {
    const value = interp.eval(right, scope);
    const write = left.fields.write as Native;
    if (value instanceof Obj && value.kind === 'endl') {
      write.fn(['\n'], new Map());
      (left.fields.flush as Native).fn([], new Map());
    } else if (!(value instanceof Obj)) {
      write.fn([cString(value)], new Map());
    }
    return left;
  }
  if (op === '>>' && left.kind === 'istream' && right.t === 'name') {
    const token = (left.fields.token as Native).fn([], new Map());
    if (token === null) return false;
    const current = scope.has(right.v) ? scope.get(right.v) : '';
    scope.set(right.v, isInt(current) ? BigInt(/^-?\d+/.exec(token as string)?.[0] ?? '0') : typeof current === 'number' ? Number(token) : token);
    return left;
  }
  return NOT_HANDLED;
}

function assignRef(ref: Value, value: Value): void {
  if (ref instanceof Ref && ref.target) ref.target.scope.set(ref.target.name, value);
}

export function cGlobals(ctx: ProgramContext, interp: Interpreter, cpp: boolean): Scope {
  const { proc, job } = ctx;
  const scope = new Scope();
  const stdin = new StdinReader(job.stdin);
  const native = (name: string, fn: (args: Value[]) => Value): Native => new Native(name, (a) => fn(a));
  const stdoutObj = new Obj('FILE', { name: 'stdout' });
  const stderrObj = new Obj('FILE', { name: 'stderr' });
  const stdinObj = new Obj('FILE', { name: 'stdin' });
  const streamOf = (f: Value): 'stdout' | 'stderr' => (f === stderrObj ? 'stderr' : 'stdout');
  const fmt = (a: Value[]): string => printf(String(a[0] ?? ''), a.slice(1), cString);
  const out = (stream: 'stdout' | 'stderr', text: string): bigint => {
    proc.write(stream, text);
    return BigInt(text.length);
  };
  const ostream = (stream: 'stdout' | 'stderr'): Obj =>
    new Obj('ostream', {
      write: native('write', (a) => out(stream, String(a[0]))),
      flush: native('flush', () => {
        if (stream === 'stdout') proc.flush();
        return null;
      }),
    });
  const istream = new Obj('istream', { token: native('token', () => stdin.token()) });
  const sleepMs = (ms: number): null => {
    proc.sleep(ms);
    return null;
  };
  const kill = (sig: Value): never => {
    throw new SignalDeath(signalName(Number(toInt(sig))) ?? 'SIGKILL');
  };
  const getline = new Native('&getline', (a) => {
    const line = stdin.line(false);
    if (line === null) return false;
    assignRef(a[1], line);
    return istream;
  });
  const alloc = (bytes: Value): Value => {
    const n = Number(toInt(bytes));
    proc.alloc(n);
    return n > 0 ? [] : null;
  };
  const runtimeError = (type: string): Native => native(type, (a) => new ExcValue(type, String(a[0] ?? ''), true));
  const globals: Record<string, Value> = {
    printf: native('printf', (a) => out('stdout', fmt(a))),
    fprintf: native('fprintf', (a) => out(streamOf(a[0]), fmt(a.slice(1)))),
    puts: native('puts', (a) => out('stdout', `${cString(a[0])}\n`)),
    putchar: native('putchar', (a) => out('stdout', typeof a[0] === 'string' ? a[0] : String.fromCharCode(Number(toInt(a[0]))))),
    fputs: native('fputs', (a) => out(streamOf(a[1]), cString(a[0]))),
    fflush: native('fflush', () => {
      proc.flush();
      return 0n;
    }),
    setvbuf: native('setvbuf', () => 0n),
    exit: native('exit', (a) => {
      throw new Exit(Number(toInt(a[0] ?? 0n)) & 255);
    }),
    _exit: native('_exit', (a) => {
      proc.discardBuffered();
      throw new Exit(Number(toInt(a[0] ?? 0n)) & 255);
    }),
    abort: native('abort', () => kill(6n)),
    raise: native('raise', (a) => kill(a[0] ?? 15n)),
    kill: native('kill', (a) => kill(a[1] ?? 15n)),
    getpid: native('getpid', () => 3n),
    malloc: native('malloc', (a) => alloc(a[0])),
    calloc: native('calloc', (a) => alloc(toInt(a[0]) * toInt(a[1] ?? 1n))),
    free: native('free', () => null),
    memset: native('memset', (a) => a[0]),
    sleep: native('sleep', (a) => sleepMs(toNumber(a[0]) * 1000)),
    usleep: native('usleep', (a) => sleepMs(toNumber(a[0]) / 1000)),
    strlen: native('strlen', (a) => BigInt(cString(a[0]).length)),
    strcmp: native('strcmp', (a) => BigInt(cString(a[0]).localeCompare(cString(a[1])))),
    atoi: native('atoi', (a) => BigInt(/^\s*-?\d+/.exec(cString(a[0]))?.[0] ?? '0')),
    atof: native('atof', (a) => Number(cString(a[0]))),
    scanf: new Native('&scanf', (a) => {
      let read = 0n;
      for (const [k, ref] of a.slice(1).entries()) {
        const token = stdin.token();
        if (token === null) return read === 0n ? -1n : read;
        const conv = /%l*([dicsfu])/g;
        const spec = [...String(a[0]).matchAll(conv)][k]?.[1] ?? 'd';
        assignRef(ref, spec === 's' || spec === 'c' ? token : spec === 'f' ? Number(token) : BigInt(/^-?\d+/.exec(token)?.[0] ?? '0'));
        read++;
      }
      return read;
    }),
    fgets: new Native('&fgets', (a) => {
      const line = stdin.line(true);
      if (line === null) return null;
      assignRef(a[0], line);
      return line;
    }),
    getchar: native('getchar', () => {
      const c = stdin.rest();
      return c.length ? BigInt(c.charCodeAt(0)) : -1n;
    }),
    getline,
    stdin: stdinObj,
    stdout: stdoutObj,
    stderr: stderrObj,
    NULL: null,
    nullptr: null,
    true: true,
    false: false,
    EXIT_SUCCESS: 0n,
    EXIT_FAILURE: 1n,
    SIGTERM: 15n,
    SIGKILL: 9n,
    SIGSEGV: 11n,
    SIGABRT: 6n,
    SIGINT: 2n,
    EOF: -1n,
  };
  if (cpp) {
    const std = new Obj('namespace std', {
      cout: ostream('stdout'),
      cerr: ostream('stderr'),
      clog: ostream('stderr'),
      endl: new Obj('endl'),
      cin: istream,
      flush: new Obj('flush'),
      getline,
      to_string: native('to_string', (a) => (typeof a[0] === 'number' ? a[0].toFixed(6) : cString(a[0]))),
      string: native('string', (a) => (a.length === 2 ? cString(a[1]).repeat(Number(toInt(a[0]))) : cString(a[0] ?? ''))),
      runtime_error: runtimeError('std::runtime_error'),
      logic_error: runtimeError('std::logic_error'),
      invalid_argument: runtimeError('std::invalid_argument'),
      out_of_range: runtimeError('std::out_of_range'),
      exception: runtimeError('std::exception'),
      exit: globals.exit!,
      abort: globals.abort!,
      this_thread: new Obj('namespace', { sleep_for: native('sleep_for', (a) => sleepMs(toNumber(a[0]))) }),
      chrono: new Obj('namespace', {
        milliseconds: native('milliseconds', (a) => toNumber(a[0])),
        seconds: native('seconds', (a) => toNumber(a[0]) * 1000),
        microseconds: native('microseconds', (a) => toNumber(a[0]) / 1000),
      }),
    });
    Object.assign(globals, { std, cout: std.fields.cout, cerr: std.fields.cerr, endl: std.fields.endl, cin: istream });
  }
  for (const [name, value] of Object.entries(globals)) scope.define(name, value);
  return new Scope(scope);
}

/** Runs top-level declarations, then main(argc, argv); main's return value is the exit code. */
export function runCMain(ctx: ProgramContext, interp: Interpreter, stmts: Stmt[]): void {
  interp.run(stmts, ctx.globals);
  const main = ctx.globals.has('main') ? ctx.globals.get('main') : undefined;
  if (!(main instanceof Func)) throw new Exit(0);
  const argv: Value[] = ['./a.out', ...ctx.job.args];
  let code: Value;
  try {
    code = interp.call(main, [BigInt(argv.length), argv], new Map());
  } catch (signal) {
    if (signal instanceof ReturnSignal) code = signal.value;
    else throw signal;
  }
  throw new Exit(code === undefined || code === null ? 0 : Number(toInt(code)) & 255);
}

// ---------------------------------------------------------------- compile errors

const C_KEYWORDS = new Set(
  'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while bool true false NULL nullptr class public private protected new delete this throw try catch namespace using template typename virtual operator friend std cout cin cerr endl string vector main argc argv stdin stdout stderr errno size_t'.split(' '),
);

/**
 * gcc's report of an identifier used as a value but declared nowhere in the file (it occurs once,
 * is not called, is not a member, and is not a library name).
 */
export function undeclaredIdentifier(source: string, fileName: string, cpp: boolean): string | null {
  const code = stripCComments(source);
  const blanked = code.replace(/"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, (s) => ' '.repeat(s.length));
  // occurrences anywhere in the text (comments, strings, macros) count as declarations: err on the safe side
  const counts = new Map<string, number>();
  for (const w of source.matchAll(/[A-Za-z_]\w*/g)) counts.set(w[0], (counts.get(w[0]) ?? 0) + 1);
  const words = [...blanked.matchAll(/[A-Za-z_]\w*/g)];
  for (const w of words) {
    const name = w[0];
    if (counts.get(name) !== 1 || C_KEYWORDS.has(name) || /^[A-Z_][A-Z0-9_]*$/.test(name) || name.startsWith('_')) continue;
    const before = blanked.slice(0, w.index).trimEnd();
    const after = blanked.slice(w.index + name.length).trimStart();
    if (after.startsWith('(') || after.startsWith('::') || /(\.|->|::)$/.test(before)) continue;
    if (!/(\breturn|[=(,+\-*/%<>!&|?:[])$/.test(before) || /\w[\s*&]*[*&]$/.test(before)) continue;
    if (/^[:]/.test(after) && !/\?/.test(before.slice(-20))) continue; // label or bitfield
    if (/[,(]$/.test(before) && /^[\w\s*&]*$/.test(before.slice(before.lastIndexOf('(') + 1, -1)) && /\)\s*\{/.test(after.slice(0, 200)) && !/^[,)]/.test(after)) continue;
    return compileErrorText(code, w.index, name, fileName, cpp);
  }
  return null;
}

function compileErrorText(code: string, offset: number, name: string, fileName: string, cpp: boolean): string {
  const lineStart = code.lastIndexOf('\n', offset - 1) + 1;
  const line = code.slice(0, offset).split('\n').length;
  const col = offset - lineStart + 1;
  const lineText = code.slice(lineStart, code.indexOf('\n', offset) === -1 ? code.length : code.indexOf('\n', offset));
  const file = `${fileName}.${cpp ? 'cpp' : 'c'}`;
  const fn = enclosingFunction(code.slice(0, offset), cpp);
  const where = fn === null ? '' : `${file}: In function '${fn}':\n`;
  const at = `${file}:${line}:${col}`;
  const gutter = String(line).padStart(5);
  const quote = `${gutter} | ${lineText}\n${' '.repeat(gutter.length)} | ${' '.repeat(col - 1)}^\n`;
  const error = cpp
    ? `${at}: error: '${name}' was not declared in this scope\n${quote}`
    : fn === null
      ? `${at}: error: '${name}' undeclared here (not in a function)\n${quote}`
      : `${at}: error: '${name}' undeclared (first use in this function)\n${quote}${at}: note: each undeclared identifier is reported only once for each function it appears in\n`;
  return `${where}${error}chmod: cannot access 'a.out': No such file or directory\n`;
}

/** The function whose body contains the end of `prefix`, as gcc names it (C: `main`, C++: `int main()`). */
function enclosingFunction(prefix: string, cpp: boolean): string | null {
  let depth = 0;
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] === '}') depth++;
    else if (prefix[i] === '{') {
      if (depth === 0) {
        const header = /([\w:<>*&\s]*?)\b(\w+)\s*\(([^()]*)\)\s*(?:const\s*)?$/.exec(prefix.slice(0, i));
        if (header && !/^(if|while|for|switch)$/.test(header[2]!)) {
          if (!cpp) return header[2]!;
          const ret = header[1]!.trim().split(/\s+/).pop() ?? 'int';
          const params = header[3]!
            .split(',')
            .map((p) => p.trim().replace(/\s*\b\w+\s*(\[\s*\])?$/, (_m, arr: string | undefined) => (arr ? '*' : '')).replace(/\s+(\*+)/, '$1'))
            .filter((p) => p && p !== 'void');
          return `${ret} ${header[2]}(${params.join(', ')})`;
        }
      }
      depth--;
    }
  }
  return null;
}

/** C++'s report of an uncaught exception before abort(). */
export function cppTerminate(exc: ExcValue): string {
  return `terminate called after throwing an instance of '${exc.type}'\n  what():  ${exc.message}\n`;
}

export { Unmodelled };
