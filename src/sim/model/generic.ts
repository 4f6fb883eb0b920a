/**
 * The model's reading of every other language: the common ways to print, read stdin, sleep,
 * exit and fail (Go, Rust, Java, Kotlin, C#, Ruby, Perl, PHP, Lua, Bash, ...). Statements run
 * top to bottom; the language's own block syntax is only partly understood.
 */
import { parseBraceBlocks, stripCComments, type Stmt } from './blocks.js';
import { Interpreter, type Language } from './interp.js';
import { Exit, SignalDeath } from './process.js';
import type { ProgramContext } from './context.js';
import { StdinReader } from './python.js';
import { ExcValue, Native, Obj, Scope, plainString, printf, toInt, toNumber, type Value } from './values.js';

const BRACE_LANGUAGES = /^(go|rust|java|kotlin|scala|csharp|csharp\.net|fsharp\.net|basic\.net|swift|dart|groovy|d|zig|vlang|typescript|crystal|php|perl|awk|powershell|ponylang|samarium)$/;

/** Languages whose statements are lines and whose blocks end with `end`, `done`, `fi`... */
function parseLineBlocks(source: string): Stmt[] {
  const lines = stripCComments(source, true).split('\n');
  const stmts: Stmt[] = [];
  lines.forEach((raw, i) => {
    const text = raw.trim().replace(/;$/, '');
    if (!text || /^(end|done|fi|esac|}|end\s+\w+|then|do|else|\{)$/.test(text)) return;
    stmts.push({ text, line: i + 1 });
  });
  return stmts;
}

export function genericLanguage(language: string): Language {
  const brace = BRACE_LANGUAGES.test(language);
  return {
    dialect: 'generic',
    statementCostMs: 0.00002,
    parseBlock: brace ? (s) => parseBraceBlocks(s.replace(/^\s*<\?php/, '')) : parseLineBlocks,
    str: plainString,
    isExceptionClass: (name) => /^(?:[A-Z]\w*)?(?:Error|Exception)$/.test(name),
    statement: genericStatement,
  };
}

/** Paren-less calls (`puts "x"`, `echo hi`, `print "a", "b"`, `exit 3`, `sleep 1`). */
function genericStatement(stmt: Stmt, scope: Scope, interp: Interpreter): boolean {
  let text = stmt.text.replace(/^(?:package|import|using|use|require|include|module|namespace|#include|library|open)\b.*$/s, '');
  if (!text) return true;
  text = text.replace(/^(?:let|var|val|const|my|local|our|def|set)\s+(?=[$@%]?\w+\s*=)/, '');
  text = text.replace(/[$@%](?=\w)/g, ''); // Perl/PHP/Bash sigils
  const loopForever = /^(while\s*\(?\s*(true|1|:|\$true)\s*\)?\s*(;?\s*do)?|loop(\s+do)?|for\s*\(\s*;\s*;\s*\)|while\s+true\s+do)$/i.exec(text);
  if (loopForever) {
    interp.proc.loopForever(true);
  }
  const m = /^([A-Za-z_][\w.:]*!?)\s+(?![=:(.[]|\+=|-=|==)(.+)$/s.exec(text);
  if (m && scope.has(m[1]!) && !/^(return|throw|raise|if|while|for|else|elif|case|when|unless)$/.test(m[1]!)) {
    const fn = scope.get(m[1]!);
    if (fn instanceof Native) {
      const argsText = m[2]!;
      let args: Value[];
      try {
        const parsed = interp.evalText(`[${argsText}]`, scope);
        args = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        // shell-like words: take them from the statement as written, sigils included
        args = shellWords(stmt.text.replace(/^\S+\s+/, ''), scope);
      }
      interp.call(fn, args, new Map());
      return true;
    }
  }
  const thrown = /^(?:throw|raise|die|panic!?|error)\s*\(?\s*(.*?)\)?$/s.exec(text);
  if (thrown) {
    let message = thrown[1]!;
    try {
      const v = interp.evalText(thrown[1]!, scope);
      if (v instanceof ExcValue) interp.throwExc(v);
      message = plainString(v);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
    }
    interp.throwExc(new ExcValue(/^panic/.test(text) ? 'panic' : 'Error', message.replace(/^["']|["']$/g, '')));
  }
  return false;
}

function shellWords(text: string, scope: Scope): Value[] {
  const words = text.match(/"(?:\\.|[^"])*"|'[^']*'|\S+/g) ?? [];
  return [words.map((w) => {
    const unquoted = w.startsWith("'") ? w.slice(1, -1) : w.replace(/^"|"$/g, '');
    return w.startsWith("'") ? unquoted : unquoted.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => (scope.has(v) ? plainString(scope.get(v)) : ''));
  }).join(' ')];
}

export function genericGlobals(ctx: ProgramContext, interp: Interpreter): Scope {
  const { proc, job } = ctx;
  const scope = new Scope();
  const stdin = new StdinReader(job.stdin);
  const language = job.runtime.language;
  const native = (name: string, fn: (args: Value[]) => Value): Native => new Native(name, (a) => fn(a));
  const str = (v: Value): string => plainString(v);
  const writer = (stream: 'stdout' | 'stderr', newline: boolean, sep = ' ') =>
    native('print', (a) => {
      proc.write(stream, a.map(str).join(sep) + (newline ? '\n' : ''));
      return null;
    });
  /** Rust's and C#'s `{}` placeholders. */
  const braces = (stream: 'stdout' | 'stderr', newline: boolean) =>
    native('format', (a) => {
      let k = 1;
      const text = str(a[0] ?? '').replace(/\{(\d*)(?::[^}]*)?\}/g, (_m, idx: string) => str(a[idx ? Number(idx) + 1 : k++]));
      proc.write(stream, text.replace(/\{\{/g, '{').replace(/\}\}/g, '}') + (newline ? '\n' : ''));
      return null;
    });
  const fmtPrintf = (stream: 'stdout' | 'stderr') =>
    native('printf', (a) => {
      proc.write(stream, printf(str(a[0] ?? ''), a.slice(1)));
      return null;
    });
  const exit = native('exit', (a) => {
    throw new Exit(Number(toInt(a[0] ?? 0n)) & 255);
  });
  const sleepSeconds = native('sleep', (a) => {
    proc.sleep(toNumber(a[0] ?? 0) * 1000);
    return null;
  });
  const sleepMs = native('sleep', (a) => {
    proc.sleep(toNumber(a[0] ?? 0));
    return null;
  });
  const readLine = native('readLine', () => stdin.line(false));
  const println = writer('stdout', true, '');
  const ns = (fields: Record<string, Value>): Obj => new Obj('namespace', fields);
  const puts = writer('stdout', true, '\n');
  const noNewlinePrint = /^(ruby|perl|php|raku|crystal|elixir|bash|dash|awk)$/.test(language);
  const globals: Record<string, Value> = {
    print: noNewlinePrint ? writer('stdout', false, '') : writer('stdout', true),
    println,
    puts,
    echo: writer('stdout', !/^php$/.test(language), ' '),
    say: puts,
    p: puts,
    printf: fmtPrintf('stdout'),
    printfn: braces('stdout', true),
    disp: puts,
    cat: writer('stdout', false, ''),
    writeln: println,
    write: writer('stdout', false, ''),
    'println!': braces('stdout', true),
    'print!': braces('stdout', false),
    'eprintln!': braces('stderr', true),
    'eprint!': braces('stderr', false),
    'panic!': native('panic', (a) => interp.throwExc(new ExcValue('panic', str(a[0] ?? 'explicit panic')))),
    panic: native('panic', (a) => interp.throwExc(new ExcValue('panic', str(a[0] ?? '')))),
    'Write-Output': puts,
    'Write-Host': puts,
    exit,
    quit: exit,
    sleep: sleepSeconds,
    readLine,
    readline: readLine,
    gets: native('gets', () => stdin.line(true)),
    input: readLine,
    io: ns({ write: writer('stdout', false, ''), read: native('read', () => stdin.line(false)), stderr: ns({ write: writer('stderr', false, '') }) }),
    os: ns({ exit, execute: native('execute', () => null) }),
    fmt: ns({ Println: writer('stdout', true), Print: writer('stdout', false, ''), Printf: fmtPrintf('stdout'), Sprintf: native('Sprintf', (a) => printf(str(a[0]), a.slice(1))), Fprintln: native('Fprintln', (a) => (proc.write(a[0] instanceof Obj && a[0].kind === 'stderr' ? 'stderr' : 'stdout', a.slice(1).map(str).join(' ') + '\n'), null)) }),
    time: ns({ Sleep: native('Sleep', (a) => (proc.sleep(toNumber(a[0]) / 1e6), null)), Millisecond: 1e6, Second: 1e9, Microsecond: 1e3 }),
    System: ns({
      out: ns({ println: writer('stdout', true, ''), print: writer('stdout', false, ''), printf: fmtPrintf('stdout') }),
      err: ns({ println: writer('stderr', true, ''), print: writer('stderr', false, ''), printf: fmtPrintf('stderr') }),
      exit,
    }),
    Thread: ns({ sleep: sleepMs, Sleep: sleepMs }),
    Console: ns({ WriteLine: braces('stdout', true), Write: braces('stdout', false), ReadLine: readLine, Error: ns({ WriteLine: braces('stderr', true) }) }),
    Environment: ns({ Exit: exit }),
    IO: ns({ puts, write: writer('stdout', false, '') }),
    std: ns({
      process: ns({ exit }),
      thread: ns({ sleep: native('sleep', (a) => (proc.sleep(toNumber(a[0])), null)) }),
      time: ns({ Duration: ns({ from_millis: native('from_millis', (a) => toNumber(a[0])), from_secs: native('from_secs', (a) => toNumber(a[0]) * 1000) }) }),
      io: ns({ stdin: native('stdin', () => ns({ read_line: native('read_line', () => stdin.line(true)) })) }),
    }),
    process: ns({ exit }),
    kill: native('kill', () => {
      throw new SignalDeath('SIGTERM');
    }),
    STDERR: new Obj('stderr'),
    true: true,
    false: false,
    nil: null,
    null: null,
    None: null,
  };
  for (const [name, value] of Object.entries(globals)) scope.define(name, value);
  // positional parameters of shell-like languages
  job.args.forEach((arg, i) => scope.define(String(i + 1), arg));
  scope.define('ARGV', [...job.args]);
  return new Scope(scope);
}

/** How a language reports an uncaught error, and the exit code it leaves. */
export function genericUncaught(exc: ExcValue, language: string, fileName: string, line: number): { stderr: string; code: number } {
  if (language === 'rust') {
    return { stderr: `thread 'main' panicked at '${exc.message}', src/main.rs:${line}:5\nnote: run with \`RUST_BACKTRACE=1\` environment variable to display a backtrace\n`, code: 101 };
  }
  if (language === 'go') {
    return { stderr: `panic: ${exc.message}\n\ngoroutine 1 [running]:\nmain.main()\n\t/box/submission/${fileName}:${line} +0x25\nexit status 2\n`, code: 2 };
  }
  if (/^(java|kotlin|scala|groovy)$/.test(language)) {
    return { stderr: `Exception in thread "main" java.lang.${exc.type === 'Error' ? 'RuntimeException' : exc.type}: ${exc.message}\n\tat Main.main(Main.java:${line})\n`, code: 1 };
  }
  if (language === 'ruby') return { stderr: `${fileName}:${line}:in \`<main>': ${exc.message} (RuntimeError)\n`, code: 1 };
  if (language === 'perl') return { stderr: `${exc.message} at ${fileName} line ${line}.\n`, code: 255 };
  return { stderr: `${fileName}:${line}: ${exc.type}: ${exc.message}\n`, code: 1 };
}
