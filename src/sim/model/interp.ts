/**
 * The statement runner and expression evaluator behind the model. It does not run programs:
 * it reads them for their observable effects (output, exit code, exceptions, sleeps, busy
 * loops, allocations) and drives a SimProcess with them. What it cannot read it skips.
 */
import type { Stmt } from './blocks.js';
import { SignalDeath, type SimProcess } from './process.js';
import { Parser, Unmodelled, type Dialect, type Expr } from './syntax.js';
import { ExcValue, Func, Native, Obj, Ref, Scope, isInt, toInt, toNumber, truthy, type Value } from './values.js';

export class BreakSignal {}
export class ContinueSignal {}
export class ReturnSignal {
  constructor(readonly value: Value) {}
}
export interface Frame {
  fn: string;
  line: number;
  text: string;
}
/** An exception thrown by the modeled program. */
export class ThrowSignal {
  constructor(
    readonly exc: ExcValue,
    readonly frames: Frame[],
  ) {}
}

/** What a language adds to the shared machinery. */
export interface Language {
  dialect: Dialect;
  /** CPU cost of one executed statement, in ms. */
  statementCostMs: number;
  parseBlock(text: string): Stmt[];
  /** Handles a language-specific simple statement; returns false to fall back to the generic rules. */
  statement?(stmt: Stmt, scope: Scope, interp: Interpreter): boolean;
  /** Handles a language-specific block header; returns false to fall back. */
  block?(stmt: Stmt, scope: Scope, interp: Interpreter, siblings: Stmt[], index: number): boolean | number;
  str(v: Value): string;
  /** A name the program never defines anywhere: python NameError, JS ReferenceError. */
  undefinedName?(name: string): ExcValue;
  /** Name of an exception class the program may construct without defining it. */
  isExceptionClass(name: string): boolean;
  /** An operator on host objects (C++ streams). */
  binaryHook?(op: string, left: Value, rightExpr: Expr, scope: Scope, interp: Interpreter): Value | typeof NOT_HANDLED;
}

export const NOT_HANDLED: unique symbol = Symbol('not handled');

const MAX_LOOP_ITERATIONS = 20_000;
const MAX_CALL_DEPTH = 200;
const MAX_STEPS = 1_000_000;
const LOOP_EXIT_WORDS = /\b(break|return|exit|raise|throw|panic|quit|abort|die)\b/;

export class Interpreter {
  readonly frames: Frame[] = [{ fn: '<module>', line: 0, text: '' }];
  private readonly exprCache = new Map<string, Expr>();
  private steps = 0;
  private readonly wordCounts: Map<string, number>;

  constructor(
    readonly lang: Language,
    readonly proc: SimProcess,
    readonly source: string,
  ) {
    this.wordCounts = new Map();
    for (const word of source.match(/[A-Za-z_$][\w$]*/g) ?? []) this.wordCounts.set(word, (this.wordCounts.get(word) ?? 0) + 1);
  }

  /** How often a word appears in the program text. */
  occurrences(word: string): number {
    return this.wordCounts.get(word) ?? 0;
  }

  parse(text: string): Expr {
    let expr = this.exprCache.get(text);
    if (!expr) {
      expr = Parser.parse(text, this.lang.dialect);
      if (this.exprCache.size > 5000) this.exprCache.clear();
      this.exprCache.set(text, expr);
    }
    return expr;
  }

  evalText(text: string, scope: Scope): Value {
    return this.eval(this.parse(text), scope);
  }

  throwExc(exc: ExcValue): never {
    throw new ThrowSignal(exc, this.frames.map((f) => ({ ...f })));
  }

  run(stmts: Stmt[], scope: Scope): void {
    for (let i = 0; i < stmts.length; i++) {
      const stmt = stmts[i]!;
      // the model's own work is bounded: a program that keeps it busy this long is CPU-bound
      if (++this.steps > MAX_STEPS) this.proc.loopForever(true);
      const frame = this.frames[this.frames.length - 1]!;
      frame.line = stmt.line;
      frame.text = stmt.text;
      this.proc.burn(this.lang.statementCostMs);
      if (stmt.body) {
        try {
          const handled = this.lang.block?.(stmt, scope, this, stmts, i) ?? false;
          if (typeof handled === 'number') i = handled;
          else if (!handled) i = this.genericBlock(stmt, scope, stmts, i);
        } catch (error) {
          if (!(error instanceof Unmodelled)) throw error;
        }
      } else {
        this.simple(stmt, scope);
      }
      this.proc.statementDone();
    }
  }

  /** Runs a statement, skipping it if the model cannot read it. */
  private simple(stmt: Stmt, scope: Scope): void {
    try {
      if (this.lang.statement?.(stmt, scope, this)) return;
      this.genericStatement(stmt, scope);
    } catch (error) {
      if (!(error instanceof Unmodelled)) throw error;
    }
  }

  private genericStatement(stmt: Stmt, scope: Scope): void {
    const text = stmt.text.replace(/;$/, '').trim();
    if (text === '' || text === 'pass') return;
    if (text === 'break') throw new BreakSignal();
    if (text === 'continue') throw new ContinueSignal();
    const ret = /^return\b\s*(.*)$/s.exec(text);
    if (ret) throw new ReturnSignal(ret[1] ? this.evalText(ret[1], scope) : undefined);
    const thrown = /^(?:throw|raise)\s+(.+)$/s.exec(text);
    if (thrown) {
      const value = this.evalText(thrown[1]!.replace(/\s+from\s+.*$/s, ''), scope);
      this.throwExc(value instanceof ExcValue ? value : new ExcValue('Error', this.lang.str(value)));
    }
    if (this.assignment(text, scope)) return;
    this.evalText(text, scope);
  }

  /** `[decl] name (=|+=|...) expr`, `a, b = x, y`, `name[i] = v`; returns false if not an assignment. */
  assignment(text: string, scope: Scope): boolean {
    const m = /^(?:(?:const|let|var|val|auto|mut|final|static|my|local|our)\s+)*(?:(?:unsigned|signed|long|short|int|char|double|float|bool|boolean|String|string|std::string|size_t|Integer|Long|str|i32|i64|u32|u64|f64|usize)\b[\s*&]*)*([A-Za-z_$][\w$]*(?:\s*,\s*[A-Za-z_$][\w$]*)*)(\[[^\]]*\])?\s*(?::\s*[\w<>[\]]+\s*)?(=|\+=|-=|\*=|\/=|%=|\/\/=|\*\*=|:=|<<=|>>=|\|=|&=)(?!=)\s*(.+)$/s.exec(text);
    if (!m) return false;
    const [, names, indexPart, op, rhs] = m;
    const targets = names!.split(',').map((s) => s.trim());
    if (indexPart && targets.length === 1 && !/^\[\s*\d*\s*\]$/.test(indexPart) && scope.has(targets[0]!)) {
      const container = scope.get(targets[0]!);
      const index = this.evalText(indexPart.slice(1, -1), scope);
      if (Array.isArray(container)) container[Number(toInt(index))] = this.evalText(rhs!, scope);
      return true;
    }
    let value = this.evalText(rhs!, scope);
    if (targets.length > 1) {
      const values = Array.isArray(value) ? value : [value];
      targets.forEach((name, k) => scope.set(name, values[k]));
      return true;
    }
    const name = targets[0]!;
    if (op !== '=' && op !== ':=') {
      const binop = op!.slice(0, -1);
      value = this.binary(binop, scope.get(name), value);
    }
    scope.set(name, value);
    return true;
  }

  /** Block headers shared by the C family, python and friends. Returns the last sibling index consumed. */
  private genericBlock(stmt: Stmt, scope: Scope, siblings: Stmt[], index: number): number {
    const header = stmt.text;
    const body = stmt.body!;
    const keyword = /^(\}?\s*else\s+if|elif|if|else|while|for|do|loop|try|catch|except|finally|switch|match|with|unless|until)\b/.exec(header)?.[1]?.replace(/^\}\s*/, '');
    switch (keyword) {
      case 'if':
      case 'unless': {
        let i = index;
        let taken = this.condition(header.replace(/^(if|unless)\b/, ''), scope, true) !== (keyword === 'unless');
        if (taken) this.run(body, scope);
        while (i + 1 < siblings.length && /^(elif|else)\b/.test(siblings[i + 1]!.text) && siblings[i + 1]!.body) {
          const next = siblings[++i]!;
          if (taken) continue;
          const isElse = /^else\s*$/.test(next.text);
          if (isElse || this.condition(next.text.replace(/^(elif|else\s+if)\b/, ''), scope, true)) {
            taken = true;
            this.run(next.body!, scope);
          }
        }
        return i;
      }
      case 'elif':
      case 'else':
      case 'catch':
      case 'except':
      case 'finally':
        return index;
      case 'while':
      case 'until': {
        const cond = header.replace(/^(while|until)\b/, '').trim();
        const constant = /^\(?\s*(True|true|1|:)\s*\)?$/.test(cond);
        this.loop(() => (constant ? true : this.condition(cond, scope, false) !== (keyword === 'until')), body, scope, constant, undefined);
        return index;
      }
      case 'loop':
        this.loop(() => true, body, scope, true, undefined);
        return index;
      case 'do': {
        const next = siblings[index + 1];
        this.run(body, scope);
        if (next && /^while\b/.test(next.text) && !next.body) {
          const cond = next.text.replace(/^while\b/, '');
          this.loop(() => this.condition(cond, scope, false), body, scope, /^\(?\s*(true|1)\s*\)?$/.test(cond.trim()), undefined);
          return index + 1;
        }
        return index;
      }
      case 'for':
        this.forLoop(header, body, scope);
        return index;
      case 'try':
        return this.tryBlock(body, scope, siblings, index);
      case 'with': {
        const m = /^with\s+(.+?)(?:\s+as\s+(\w+))?$/s.exec(header);
        if (m?.[2]) {
          try {
            scope.set(m[2], this.evalText(m[1]!, scope));
          } catch (error) {
            if (!(error instanceof Unmodelled)) throw error;
          }
        }
        this.run(body, scope);
        return index;
      }
      case 'switch':
      case 'match':
        return index;
      default:
        break;
    }
    if (this.defineFunction(header, body, scope)) return index;
    if (/^(class|struct|impl|namespace|object|module|interface|enum|trait|public\s+class|export|package)\b/.test(header) || /\bclass\s+\w+/.test(header)) {
      this.run(body.filter((s) => s.body), scope); // nested definitions only
      return index;
    }
    this.run(body, scope); // a bare block
    return index;
  }

  /** Evaluates a loop/if condition; an unreadable one counts as `unknown`. */
  condition(text: string, scope: Scope, unknown: boolean): boolean {
    let t = text.trim();
    if (t.startsWith('(') && t.endsWith(')')) t = t.slice(1, -1);
    try {
      return truthy(this.evalText(t, scope));
    } catch (error) {
      if (error instanceof Unmodelled) return unknown;
      throw error;
    }
  }

  /**
   * Runs a loop. A constant-true loop whose body cannot leave it and does nothing observable per
   * iteration is a busy loop: the process's time limit ends it.
   */
  loop(cond: () => boolean, body: Stmt[], scope: Scope, constant: boolean, onIteration: (() => void) | undefined): void {
    const canLeave = LOOP_EXIT_WORDS.test(JSON.stringify(body));
    for (let n = 0; ; n++) {
      if (!cond()) return;
      if (n >= MAX_LOOP_ITERATIONS) this.proc.loopForever(true);
      const before = this.proc.wall;
      const writes = this.proc.stdout.length + this.proc.stderr.length;
      try {
        this.run(body, scope);
      } catch (signal) {
        if (signal instanceof BreakSignal) return;
        if (!(signal instanceof ContinueSignal)) throw signal;
      }
      onIteration?.();
      const idle = this.proc.wall - before <= this.lang.statementCostMs * (body.length + 1) * 2;
      if (constant && !canLeave && idle && this.proc.stdout.length + this.proc.stderr.length === writes && !this.writesInBody(body)) {
        this.proc.loopForever(true);
      }
    }
  }

  private writesInBody(body: Stmt[]): boolean {
    return /print|write|puts|echo|log|cout|say|put/i.test(JSON.stringify(body));
  }

  /** Iterates `values` (or a count) binding `name`; long effect-free loops are fast-forwarded. */
  iterate(name: string | null, values: Iterable<Value>, count: number, body: Stmt[], scope: Scope): void {
    let n = 0;
    for (const value of values) {
      if (name) scope.set(name, value);
      if (n >= MAX_LOOP_ITERATIONS) {
        // fast-forward: charge the CPU of the remaining iterations
        this.proc.burn((count - n) * this.lang.statementCostMs * Math.max(1, body.length));
        return;
      }
      n++;
      try {
        this.run(body, scope);
      } catch (signal) {
        if (signal instanceof BreakSignal) return;
        if (!(signal instanceof ContinueSignal)) throw signal;
      }
    }
  }

  private forLoop(header: string, body: Stmt[], scope: Scope): void {
    let h = header.replace(/^for\s*/, '').trim();
    if (h.startsWith('(') && h.endsWith(')')) h = h.slice(1, -1).trim();
    // for (;;), Go's bare `for`
    if (h === '' || /^\s*;\s*;\s*$/.test(h)) return this.loop(() => true, body, scope, true, undefined);
    // C style: for (init; cond; step)
    const c = /^([^;]*);([^;]*);([^;]*)$/s.exec(h);
    if (c) {
      if (c[1]!.trim()) this.simple({ text: c[1]!, line: 0 }, scope);
      const cond = c[2]!.trim();
      return this.loop(() => (cond ? this.condition(cond, scope, false) : true), body, scope, cond === '' || cond === 'true' || cond === '1', () => {
        if (c[3]!.trim()) this.simple({ text: c[3]!, line: 0 }, scope);
      });
    }
    // for x in EXPR / for (const x of EXPR) / for (String x : EXPR) / for x := range EXPR
    const each = /^(?:(?:const|let|var|auto|final|[\w<>[\]]+)\s+)??&?([A-Za-z_]\w*)(?:\s*,\s*\w+)?\s+(?:in|of|:)\s+(.+)$/s.exec(h);
    if (each) {
      const [, name, iterText] = each;
      const range = /^(-?\w+)\s*\.\.(=?)\s*(-?\w+)$/.exec(iterText!.trim()); // Rust/Kotlin ranges
      let iterable: Value;
      if (range) {
        const from = Number(toInt(this.evalText(range[1]!, scope)));
        const to = Number(toInt(this.evalText(range[3]!, scope))) + (range[2] ? 1 : 0);
        iterable = new Obj('range', { start: BigInt(from), stop: BigInt(to), step: 1n });
      } else {
        iterable = this.evalText(iterText!, scope);
      }
      const { values, count } = this.iterationOf(iterable);
      return this.iterate(name!, values, count, body, scope);
    }
    throw new Unmodelled('for');
  }

  iterationOf(v: Value): { values: Iterable<Value>; count: number } {
    if (v instanceof Obj && v.kind === 'range') {
      const start = toInt(v.fields.start);
      const stop = toInt(v.fields.stop);
      const step = toInt(v.fields.step);
      const count = step > 0n ? Math.max(0, Number((stop - start + step - 1n) / step)) : Math.max(0, Number((start - stop - step - 1n) / -step));
      function* gen(): Generator<Value> {
        for (let i = start; step > 0n ? i < stop : i > stop; i += step) yield i;
      }
      return { values: gen(), count };
    }
    if (typeof v === 'string') return { values: [...v], count: [...v].length };
    if (Array.isArray(v)) return { values: [...v], count: v.length };
    if (v instanceof Uint8Array) return { values: [...v].map((b) => BigInt(b)), count: v.length };
    if (v instanceof Obj && Array.isArray(v.fields.__iter__)) return this.iterationOf(v.fields.__iter__);
    throw new Unmodelled('iterable');
  }

  private tryBlock(body: Stmt[], scope: Scope, siblings: Stmt[], index: number): number {
    let last = index;
    const handlers: Stmt[] = [];
    let finallyBody: Stmt[] | undefined;
    while (last + 1 < siblings.length && siblings[last + 1]!.body && /^(catch|except|else|finally)\b/.test(siblings[last + 1]!.text)) {
      const next = siblings[++last]!;
      if (/^finally\b/.test(next.text)) finallyBody = next.body;
      else if (/^(catch|except)\b/.test(next.text)) handlers.push(next);
    }
    const depth = this.frames.length;
    try {
      this.run(body, scope);
    } catch (signal) {
      if (!(signal instanceof ThrowSignal)) throw signal;
      this.frames.length = depth;
      const handler = handlers.find((h) => this.catches(h.text, signal.exc));
      if (!handler) throw signal;
      const bind = /\bas\s+(\w+)\s*$/.exec(handler.text)?.[1] ?? /^catch\s*\(\s*(?:[\w.:<>]+\s+)*?(\w+)\s*\)$/.exec(handler.text)?.[1];
      if (bind) scope.set(bind, signal.exc);
      this.run(handler.body!, scope);
    } finally {
      if (finallyBody) this.run(finallyBody, scope);
    }
    return last;
  }

  /** Whether an except/catch clause catches this exception type (broad classes catch everything). */
  private catches(header: string, exc: ExcValue): boolean {
    const types = header
      .replace(/^(catch|except)\s*/, '')
      .replace(/\bas\s+\w+$/, '')
      .replace(/[()]/g, ' ')
      .split(/[\s,|]+/)
      .filter((t) => /^[A-Z]/.test(t));
    if (types.length === 0) return true;
    return types.some((t) => {
      const name = t.split(/[.:]/).pop()!;
      return name === exc.type || /^(Exception|BaseException|Error|Throwable|OSError|std::exception|exception)$/.test(name) || (name === 'OSError' && /Error$/.test(exc.type));
    });
  }

  /** Registers `def f(a, b)`, `function f(a)`, `int f(int a)`, `fn f(a: i32)`, `func f(a int)`. */
  defineFunction(header: string, body: Stmt[], scope: Scope): boolean {
    const m =
      /^(?:async\s+)?def\s+(\w+)\s*\((.*)\)\s*(?:->.*)?$/s.exec(header) ??
      /^(?:export\s+)?(?:async\s+)?function\s*\*?\s*(\w+)\s*\((.*)\)$/s.exec(header) ??
      /^(?:pub\s+)?fn\s+(\w+)\s*(?:<.*>)?\s*\((.*)\)(?:\s*->.*)?$/s.exec(header) ??
      /^func\s+(?:\([^)]*\)\s*)?(\w+)\s*\((.*?)\)\s*.*$/s.exec(header) ??
      /^(?:private\s+|public\s+)?fun\s+(\w+)\s*\((.*)\).*$/s.exec(header) ??
      /^(?:(?:const|let|var)\s+)(\w+)\s*=\s*(?:async\s*)?(?:function\s*\w*\s*)?\(?([\w\s,]*)\)?\s*(?:=>)?$/s.exec(header) ??
      /^(?:[\w:<>[\],*&]+\s+)+[*&]*(\w+)\s*\((.*)\)\s*(?:const|throws\s+[\w.,\s]+)?$/s.exec(header);
    if (!m) return false;
    const name = m[1]!;
    if (/^(if|while|for|switch|catch|return|sizeof|elif|else)$/.test(name)) return false;
    const params = splitParams(m[2]!);
    scope.define(name, new Func(name, params, body, scope));
    return true;
  }

  call(fn: Value, args: Value[], kwargs: Map<string, Value>): Value {
    if (fn instanceof Native) return fn.fn(args, kwargs);
    if (fn instanceof Func) {
      if (this.frames.length > MAX_CALL_DEPTH) {
        if (this.lang.dialect === 'python') this.throwExc(new ExcValue('RecursionError', 'maximum recursion depth exceeded'));
        throw new SignalDeath('SIGSEGV');
      }
      const scope = new Scope(fn.closure);
      fn.params.forEach((p, i) => scope.define(p, kwargs.has(p) ? kwargs.get(p) : args[i]));
      if (!Array.isArray(fn.body)) return this.eval(fn.body, scope);
      this.frames.push({ fn: fn.name, line: 0, text: '' });
      try {
        this.run(fn.body, scope);
        return undefined;
      } catch (signal) {
        if (signal instanceof ReturnSignal) return signal.value;
        throw signal;
      } finally {
        this.frames.pop();
      }
    }
    throw new Unmodelled('call of a non-function');
  }

  // ---------------------------------------------------------------- expressions

  eval(e: Expr, scope: Scope): Value {
    switch (e.t) {
      case 'str':
        return e.bytes ? Uint8Array.from(Buffer.from(e.v, 'latin1')) : e.v;
      case 'fstr':
        return e.parts.map((p) => (typeof p === 'string' ? p : this.lang.str(this.eval(p, scope)))).join('');
      case 'num':
        return e.v;
      case 'name':
        return this.lookup(e.v, scope);
      case 'list':
        return e.items.map((item) => this.eval(item, scope));
      case 'unary':
        return this.unary(e.op, e.e, scope);
      case 'postfix': {
        const old = this.eval(e.e, scope);
        if (e.e.t === 'name') scope.set(e.e.v, this.binary(e.op === '++' ? '+' : '-', old, isInt(old) ? 1n : 1));
        return old;
      }
      case 'bin':
        return this.binaryExpr(e.op, e.l, e.r, scope);
      case 'cond':
        return truthy(this.eval(e.c, scope)) ? this.eval(e.a, scope) : this.eval(e.b, scope);
      case 'call':
        return this.callExpr(e, scope);
      case 'new': {
        const callee = e.f.t === 'name' ? e.f.v : e.f.t === 'member' ? e.f.name : '';
        const args = e.args.map((a) => this.eval(a, scope));
        if (this.lang.isExceptionClass(callee) && !scope.has(`new ${callee}`)) {
          return new ExcValue(callee, args.length ? this.lang.str(args[0]) : '', args.length > 0);
        }
        return this.call(this.lookup(`new ${callee}`, scope), args, new Map());
      }
      case 'member':
        return this.member(this.eval(e.o, scope), e.name);
      case 'index': {
        const container = this.eval(e.o, scope);
        return this.index(container, this.eval(e.i, scope));
      }
      case 'slice': {
        const container = this.eval(e.o, scope);
        if (!(typeof container === 'string' || Array.isArray(container))) throw new Unmodelled('slice');
        const len = container.length;
        const norm = (v: Value | undefined, dflt: number): number => {
          if (v === undefined) return dflt;
          const n = Number(toInt(v));
          return n < 0 ? Math.max(0, len + n) : Math.min(n, len);
        };
        const from = norm(e.from ? this.eval(e.from, scope) : undefined, 0);
        const to = norm(e.to ? this.eval(e.to, scope) : undefined, len);
        return container.slice(from, to);
      }
      case 'lambda':
        return new Func('<lambda>', e.params, 'block' in e.body ? this.lang.parseBlock(e.body.block) : e.body, scope);
      default:
        throw new Unmodelled('expression');
    }
  }

  lookup(name: string, scope: Scope): Value {
    if (scope.has(name)) return scope.get(name);
    if (this.lang.isExceptionClass(name)) {
      return new Native(name, (args) => new ExcValue(name, args.length ? this.lang.str(args[0]) : '', args.length > 0));
    }
    if (this.occurrences(name) === 1 && this.lang.undefinedName) this.throwExc(this.lang.undefinedName(name));
    throw new Unmodelled(`name ${name}`);
  }

  private callExpr(e: Extract<Expr, { t: 'call' }>, scope: Scope): Value {
    const fn = this.eval(e.f, scope);
    // natives named '&...' take their plain-name arguments by reference (scanf, fgets, getline)
    const byRef = fn instanceof Native && fn.name.startsWith('&');
    const args = e.args.map((a) => (byRef && a.t === 'name' ? new Ref({ scope, name: a.v }) : this.eval(a, scope)));
    const kwargs = new Map(e.kwargs.map(([k, v]) => [k, this.eval(v, scope)] as const));
    return this.call(fn, args, kwargs);
  }

  private unary(op: string, operand: Expr, scope: Scope): Value {
    if (op === '&' && operand.t === 'name') return new Ref({ scope, name: operand.v });
    if (op === '++' || op === '--') {
      const v = this.eval(operand, scope);
      const next = this.binary(op === '++' ? '+' : '-', v, isInt(v) ? 1n : 1);
      if (operand.t === 'name') scope.set(operand.v, next);
      return next;
    }
    const v = this.eval(operand, scope);
    switch (op) {
      case '-':
        return isInt(v) ? -v : -toNumber(v);
      case '+':
        return isInt(v) ? v : toNumber(v);
      case '!':
        return !truthy(v);
      case '~':
        return ~toInt(v);
      case 'typeof':
        return typeof v === 'bigint' ? 'number' : v instanceof Func || v instanceof Native ? 'function' : v === null ? 'object' : typeof v;
      case 'void':
        return undefined;
      case '*':
        return this.deref(v);
      default:
        throw new Unmodelled(`unary ${op}`);
    }
  }

  deref(v: Value): Value {
    if (v === null || v === 0n || v === 0 || (v instanceof Ref && v.target === null)) throw new SignalDeath('SIGSEGV');
    if (v instanceof Ref) return v.target!.scope.get(v.target!.name);
    if (typeof v === 'string') return v.slice(0, 1);
    if (Array.isArray(v)) return v[0];
    throw new Unmodelled('deref');
  }

  private binaryExpr(op: string, l: Expr, r: Expr, scope: Scope): Value {
    const left = this.eval(l, scope);
    if (this.lang.binaryHook) {
      const hooked = this.lang.binaryHook(op, left, r, scope, this);
      if (hooked !== NOT_HANDLED) return hooked;
    }
    switch (op) {
      case 'and':
      case '&&':
        return truthy(left) ? this.eval(r, scope) : this.lang.dialect === 'c' ? false : left;
      case 'or':
      case '||':
        return truthy(left) ? (this.lang.dialect === 'c' ? true : left) : this.eval(r, scope);
      case '??':
        return left === null || left === undefined ? this.eval(r, scope) : left;
      default:
        return this.binary(op, left, this.eval(r, scope));
    }
  }

  binary(op: string, a: Value, b: Value): Value {
    const py = this.lang.dialect === 'python';
    const js = this.lang.dialect === 'js';
    switch (op) {
      case '+':
        if (typeof a === 'string' || typeof b === 'string') {
          if (py && (typeof a !== 'string' || typeof b !== 'string')) {
            this.throwExc(new ExcValue('TypeError', typeof a === 'string' ? `can only concatenate str (not "${pyTypeName(b)}") to str` : `unsupported operand type(s) for +: '${pyTypeName(a)}' and 'str'`));
          }
          const s = this.lang.str(a) + this.lang.str(b);
          this.proc.alloc(s.length > 1_000_000 ? s.length : 0);
          return s;
        }
        if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
        break;
      case '*': {
        const [str, times] = typeof a === 'string' ? [a, b] : typeof b === 'string' ? [b, a] : [null, null];
        if (str !== null && !js) return this.repeat(str, times);
        if (Array.isArray(a) && (isInt(b) || typeof b === 'number')) {
          const n = Number(toInt(b));
          this.proc.alloc(n * a.length * 8);
          if (n * a.length > 1_000_000) return new Array(Math.min(n * a.length, 1_000_000)).fill(a[0]);
          return Array.from({ length: n }, () => a).flat();
        }
        break;
      }
      case '==':
      case '===':
        return looseEquals(a, b);
      case '!=':
      case '!==':
        return !looseEquals(a, b);
      case 'is':
        return a === b || (a === null && b === undefined) || (a === undefined && b === null);
      case 'is not':
        return !(a === b || (a == null && b == null));
      case 'in':
        return contains(b, a);
      case 'not in':
        return !contains(b, a);
      case 'instanceof':
        return true;
      default:
        break;
    }
    if ((op === '<' || op === '>' || op === '<=' || op === '>=') && typeof a === 'string' && typeof b === 'string') {
      return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
    }
    // numbers: bigint = integer, number = float
    if (isInt(a) && isInt(b) && !js) return this.intOp(op, a, b);
    const x = toNumber(a);
    const y = toNumber(b);
    switch (op) {
      case '+': return x + y;
      case '-': return x - y;
      case '*': return x * y;
      case '/':
        if (y === 0 && py) this.throwExc(new ExcValue('ZeroDivisionError', 'float division by zero'));
        return x / y;
      case '//':
        if (y === 0 && py) this.throwExc(new ExcValue('ZeroDivisionError', 'float floor division by zero'));
        return Math.floor(x / y);
      case '%': return py ? ((x % y) + y) % y : x % y;
      case '**': return x ** y;
      case '<': return x < y;
      case '>': return x > y;
      case '<=': return x <= y;
      case '>=': return x >= y;
      case '&': return js ? x & y : Number(toInt(a) & toInt(b));
      case '|': return js ? x | y : Number(toInt(a) | toInt(b));
      case '^': return js ? x ^ y : Number(toInt(a) ^ toInt(b));
      case '<<': return x << y;
      case '>>': return x >> y;
      default:
        throw new Unmodelled(`operator ${op}`);
    }
  }

  private intOp(op: string, a: bigint, b: bigint): Value {
    const py = this.lang.dialect === 'python';
    switch (op) {
      case '+': return a + b;
      case '-': return a - b;
      case '*': return a * b;
      case '/':
        if (b === 0n) return this.divisionByZero();
        return py ? Number(a) / Number(b) : a / b;
      case '//': {
        if (b === 0n) return this.divisionByZero();
        const q = a / b;
        return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
      }
      case '%': {
        if (b === 0n) return this.divisionByZero();
        const r = a % b;
        return py && r !== 0n && (r < 0n) !== (b < 0n) ? r + b : r;
      }
      case '**':
        if (b < 0n) return Number(a) ** Number(b);
        if (b > 100_000n) {
          this.proc.burn(Number(b) / 10_000);
          throw new Unmodelled('huge power');
        }
        return a ** b;
      case '<': return a < b;
      case '>': return a > b;
      case '<=': return a <= b;
      case '>=': return a >= b;
      case '&': return a & b;
      case '|': return a | b;
      case '^': return a ^ b;
      case '<<': return a << b;
      case '>>': return a >> b;
      default:
        throw new Unmodelled(`operator ${op}`);
    }
  }

  private divisionByZero(): never {
    if (this.lang.dialect === 'python') this.throwExc(new ExcValue('ZeroDivisionError', 'division by zero'));
    if (this.lang.dialect === 'c') throw new SignalDeath('SIGFPE');
    this.throwExc(new ExcValue('ArithmeticException', '/ by zero'));
  }

  repeat(s: string, times: Value): string {
    const n = Math.max(0, Number(toInt(times)));
    this.proc.alloc(s.length * n > 1_000_000 ? s.length * n : 0);
    if (s.length * n > 64 * 1024 * 1024) throw new Unmodelled('giant string');
    return s.repeat(n);
  }

  index(container: Value, key: Value): Value {
    if (container === null || container === 0n || (container instanceof Ref && container.target === null)) {
      if (this.lang.dialect === 'c') throw new SignalDeath('SIGSEGV');
    }
    if (typeof container === 'string' || Array.isArray(container) || container instanceof Uint8Array) {
      let i = Number(toInt(key));
      if (i < 0 && this.lang.dialect === 'python') i += container.length;
      if (i < 0 || i >= container.length) {
        if (this.lang.dialect === 'python') this.throwExc(new ExcValue('IndexError', `${Array.isArray(container) ? 'list' : 'string'} index out of range`));
        if (this.lang.dialect === 'c' && Array.isArray(container)) return null;
        return undefined;
      }
      const v = container[i];
      return container instanceof Uint8Array ? BigInt(v as number) : (v as Value);
    }
    if (container instanceof Obj) {
      const field = container.fields[this.lang.str(key)];
      if (field === undefined && container.kind === 'dict' && this.lang.dialect === 'python') this.throwExc(new ExcValue('KeyError', this.lang.str(key)));
      return field;
    }
    throw new Unmodelled('index');
  }

  member(target: Value, name: string): Value {
    if (target instanceof Obj) {
      if (name in target.fields) return target.fields[name];
      throw new Unmodelled(`member ${target.kind}.${name}`);
    }
    if (target instanceof ExcValue) {
      if (name === 'message') return target.message;
      if (name === 'args') return [target.message];
      if (name === 'name') return target.type;
      if (name === 'stack') return `${target.type}: ${target.message}`;
    }
    if (typeof target === 'string') return stringMember(this, target, name);
    if (Array.isArray(target)) return arrayMember(this, target, name);
    if (target instanceof Uint8Array) {
      if (name === 'length') return BigInt(target.length);
      if (name === 'decode' || name === 'toString') return new Native(name, () => Buffer.from(target).toString('utf8'));
    }
    throw new Unmodelled(`member .${name}`);
  }
}

function pyTypeName(v: Value): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  return 'object';
}

function looseEquals(a: Value, b: Value): boolean {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => looseEquals(x, b[i]));
  if (a === undefined) return b === null || b === undefined;
  if (a === null) return b === null || b === undefined;
  return a === b;
}

function contains(container: Value, item: Value): boolean {
  if (typeof container === 'string') return typeof item === 'string' && container.includes(item);
  if (Array.isArray(container)) return container.some((x) => looseEquals(x, item));
  if (container instanceof Obj) return typeof item === 'string' && item in container.fields;
  throw new Unmodelled('in');
}

export function splitParams(text: string): string[] {
  const params: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if ('([<{'.includes(ch)) depth++;
    if (')]>}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      params.push(current);
      current = '';
    } else current += ch;
  }
  params.push(current);
  return params
    .map((p) => p.replace(/=.*$/s, '').trim())
    .filter((p) => p && p !== 'void' && p !== 'self' && p !== '...')
    .map((p) => {
      if (p.includes(':') && !p.includes('::')) return p.split(':')[0]!.replace(/^(mut|let|var|val)\s+/, '').trim().replace(/^\*+/, '');
      const words = p.match(/[A-Za-z_]\w*/g) ?? [];
      // Go puts the type after the name: `a int`, `args []string`
      if (words.length === 2 && /^(int|string|float64|bool|byte|rune|error|int64)$/.test(words[1]!)) return words[0]!;
      if (/^\w+\s+\[\]\w+$/.test(p)) return words[0]!;
      return words[words.length - 1] ?? p;
    });
}

function nativeMethod(name: string, fn: (args: Value[]) => Value): Native {
  return new Native(name, (args) => fn(args));
}

function stringMember(interp: Interpreter, s: string, name: string): Value {
  const str = (v: Value): string => interp.lang.str(v);
  const py = interp.lang.dialect === 'python';
  switch (name) {
    case 'length':
      return interp.lang.dialect === 'js' ? s.length : BigInt(s.length);
    case 'strip':
    case 'trim':
      return nativeMethod(name, (a) => (a.length && typeof a[0] === 'string' ? trimChars(s, a[0], true, true) : s.trim()));
    case 'lstrip':
    case 'trimStart':
      return nativeMethod(name, () => s.trimStart());
    case 'rstrip':
    case 'trimEnd':
      return nativeMethod(name, (a) => (a.length && typeof a[0] === 'string' ? trimChars(s, a[0], false, true) : s.trimEnd()));
    case 'upper':
    case 'toUpperCase':
    case 'ToUpper':
      return nativeMethod(name, () => s.toUpperCase());
    case 'lower':
    case 'toLowerCase':
    case 'ToLower':
      return nativeMethod(name, () => s.toLowerCase());
    case 'toString':
    case 'decode':
    case 'valueOf':
      return nativeMethod(name, () => s);
    case 'encode':
      return nativeMethod(name, () => Uint8Array.from(Buffer.from(s)));
    case 'split':
      return nativeMethod(name, (a) => {
        if (a.length === 0 || a[0] === null || a[0] === undefined) return py ? s.split(/\s+/).filter((x) => x) : [s];
        return s.split(str(a[0]));
      });
    case 'splitlines':
      return nativeMethod(name, () => s.split(/\r?\n/).filter((x, i, all) => i < all.length - 1 || x !== ''));
    case 'join':
      return nativeMethod(name, (a) => (Array.isArray(a[0]) ? a[0].map(str).join(s) : ''));
    case 'replace':
    case 'replaceAll':
      return nativeMethod(name, (a) => (py || name === 'replaceAll' ? s.split(str(a[0])).join(str(a[1])) : s.replace(str(a[0]), str(a[1]))));
    case 'startswith':
    case 'startsWith':
      return nativeMethod(name, (a) => s.startsWith(str(a[0])));
    case 'endswith':
    case 'endsWith':
      return nativeMethod(name, (a) => s.endsWith(str(a[0])));
    case 'includes':
    case 'contains':
      return nativeMethod(name, (a) => s.includes(str(a[0])));
    case 'find':
    case 'indexOf':
      return nativeMethod(name, (a) => (py ? BigInt(s.indexOf(str(a[0]))) : s.indexOf(str(a[0]))));
    case 'count':
      return nativeMethod(name, (a) => BigInt(s.split(str(a[0])).length - 1));
    case 'repeat':
      return nativeMethod(name, (a) => interp.repeat(s, a[0]));
    case 'format':
      return nativeMethod(name, (a) => {
        let k = 0;
        return s.replace(/\{(\d*)(?::[^}]*)?\}/g, (_m, idx: string) => str(a[idx ? Number(idx) : k++]));
      });
    case 'charAt':
      return nativeMethod(name, (a) => s.charAt(Number(toNumber(a[0]))));
    case 'isdigit':
      return nativeMethod(name, () => /^\d+$/.test(s));
    case 'title':
      return nativeMethod(name, () => s.replace(/\b\w/g, (c) => c.toUpperCase()));
    case 'capitalize':
      return nativeMethod(name, () => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase());
    case 'zfill':
      return nativeMethod(name, (a) => s.padStart(Number(toInt(a[0])), '0'));
    case 'padStart':
    case 'rjust':
      return nativeMethod(name, (a) => s.padStart(Number(toNumber(a[0])), a[1] === undefined ? ' ' : str(a[1])));
    case 'padEnd':
    case 'ljust':
      return nativeMethod(name, (a) => s.padEnd(Number(toNumber(a[0])), a[1] === undefined ? ' ' : str(a[1])));
    case 'slice':
    case 'substring':
      return nativeMethod(name, (a) => s.slice(Number(toNumber(a[0] ?? 0)), a[1] === undefined ? undefined : Number(toNumber(a[1]))));
    case 'c_str':
    case 'size':
      return nativeMethod(name, () => (name === 'size' ? BigInt(s.length) : s));
    default:
      throw new Unmodelled(`string.${name}`);
  }
}

function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && chars.includes(s[a]!)) a++;
  while (right && b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function arrayMember(interp: Interpreter, list: Value[], name: string): Value {
  const js = interp.lang.dialect === 'js';
  switch (name) {
    case 'length':
      return js ? list.length : BigInt(list.length);
    case 'append':
    case 'push':
      return nativeMethod(name, (a) => {
        list.push(...a);
        return js ? list.length : undefined;
      });
    case 'pop':
      return nativeMethod(name, () => list.pop());
    case 'join':
      return nativeMethod(name, (a) => list.map((v) => interp.lang.str(v)).join(a.length ? interp.lang.str(a[0]) : ','));
    case 'slice':
      return nativeMethod(name, (a) => list.slice(Number(toNumber(a[0] ?? 0)), a[1] === undefined ? undefined : Number(toNumber(a[1]))));
    case 'reverse':
      return nativeMethod(name, () => list.reverse());
    case 'includes':
      return nativeMethod(name, (a) => list.some((v) => looseEquals(v, a[0])));
    case 'map':
    case 'filter':
    case 'forEach':
      return nativeMethod(name, (a) => {
        const fn = a[0];
        const results = list.map((v, i) => interp.call(fn, [v, js ? i : BigInt(i)], new Map()));
        if (name === 'map') return results;
        if (name === 'filter') return list.filter((_v, i) => truthy(results[i]));
        return undefined;
      });
    case 'size':
    case 'len':
      return nativeMethod(name, () => BigInt(list.length));
    default:
      throw new Unmodelled(`list.${name}`);
  }
}
