/** Runtime values of the modeled programs, and how each language prints them. */
import { inspect } from 'node:util';
import { Unmodelled } from './syntax.js';
import type { Expr } from './syntax.js';
import type { Stmt } from './blocks.js';

export type Value =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | Value[]
  | Uint8Array
  | Native
  | Obj
  | Func
  | ExcValue
  | Ref;

export type NativeFn = (args: Value[], kwargs: Map<string, Value>) => Value;

export class Native {
  constructor(readonly name: string, readonly fn: NativeFn) {}
}

/** Modules, namespaces and host objects: a bag of named members. */
export class Obj {
  constructor(readonly kind: string, readonly fields: Record<string, Value> = {}) {}
}

export class Func {
  constructor(
    readonly name: string,
    readonly params: string[],
    readonly body: Expr | Stmt[],
    readonly closure: Scope,
  ) {}
}

/** An exception object of the modeled program (python's ValueError("boom"), JS's new Error()). */
export class ExcValue {
  constructor(readonly type: string, readonly message: string, readonly hasMessage = true) {}
}

/** A C pointer or reference; `null` target means a null pointer. */
export class Ref {
  constructor(readonly target: { scope: Scope; name: string } | null) {}
}

export class Scope {
  private readonly vars = new Map<string, Value>();
  constructor(readonly parent: Scope | null = null) {}
  has(name: string): boolean {
    return this.vars.has(name) || (this.parent?.has(name) ?? false);
  }
  get(name: string): Value {
    if (this.vars.has(name)) return this.vars.get(name);
    if (this.parent) return this.parent.get(name);
    throw new Unmodelled(`name ${name}`);
  }
  /** Assigns where the name is defined, else defines it here. */
  set(name: string, value: Value): void {
    if (!this.vars.has(name) && this.parent?.has(name)) {
      this.parent.set(name, value);
      return;
    }
    this.vars.set(name, value);
  }
  define(name: string, value: Value): void {
    this.vars.set(name, value);
  }
  entries(): IterableIterator<[string, Value]> {
    return this.vars.entries();
  }
}

export function isInt(v: Value): v is bigint {
  return typeof v === 'bigint';
}

export function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new Unmodelled('number');
}

export function toInt(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  const n = toNumber(v);
  if (!Number.isFinite(n)) throw new Unmodelled('int');
  return BigInt(Math.trunc(n));
}

export function truthy(v: Value): boolean {
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length > 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof Ref) return v.target !== null;
  return Boolean(v);
}

// ---- python formatting ----

export function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

export function pyBytesRepr(bytes: Uint8Array): string {
  let quote = "'";
  if (bytes.includes(0x27) && !bytes.includes(0x22)) quote = '"';
  let out = `b${quote}`;
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

export function pyRepr(v: Value): string {
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof Uint8Array) return pyBytesRepr(v);
  if (v instanceof ExcValue) return `${v.type}(${v.hasMessage ? pyStrRepr(v.message) : ''})`;
  return pyStr(v);
}

export function pyStr(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return pyFloat(v);
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (v instanceof ExcValue) return v.message;
  if (v instanceof Native) return `<built-in function ${v.name}>`;
  if (v instanceof Func) return `<function ${v.name}>`;
  if (v instanceof Obj) return `<${v.kind}>`;
  return pyRepr(v);
}

// ---- JavaScript formatting (console.log) ----

function toJs(v: Value): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJs);
  if (v instanceof ExcValue) {
    const e = new Error(v.message);
    e.name = v.type;
    return `${v.type}: ${v.message}`;
  }
  if (v instanceof Native || v instanceof Func) return `[Function: ${v.name}]`;
  if (v instanceof Obj) return `[object ${v.kind}]`;
  if (v instanceof Uint8Array) return Buffer.from(v);
  return v;
}

export function jsFormat(args: Value[]): string {
  return args.map((a) => (typeof a === 'string' ? a : inspect(toJs(a)))).join(' ');
}

export function jsString(v: Value): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x) => (x === null || x === undefined ? '' : jsString(x))).join(',');
  const js = toJs(v);
  return String(js);
}

// ---- plain formatting for the other languages ----

export function plainString(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? `${v}` : String(v);
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(plainString).join(' ')}]`;
  if (v instanceof ExcValue) return v.message;
  return String(v);
}

// ---- C printf ----

export function printf(format: string, args: Value[], stringOf: (v: Value) => string = plainString): string {
  let argIndex = 0;
  const nextArg = (): Value => args[argIndex++];
  return format.replace(/%([-+ 0#]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|L|z|j|t|q)?([diouxXeEfFgGcspn%])/g, (_m, flags: string, widthSpec?: string, precSpec?: string, _len?: string, conv?: string) => {
    if (conv === '%') return '%';
    const width = widthSpec === '*' ? Number(toNumber(nextArg())) : widthSpec ? Number(widthSpec) : 0;
    const precision = precSpec === '*' ? Number(toNumber(nextArg())) : precSpec !== undefined ? Number(precSpec) : undefined;
    const arg = nextArg();
    let body: string;
    switch (conv) {
      case 'd':
      case 'i':
      case 'u':
        body = toInt(arg).toString();
        if (flags.includes('+') && !body.startsWith('-')) body = `+${body}`;
        break;
      case 'x':
      case 'X':
      case 'o': {
        const n = toInt(arg);
        body = (n < 0n ? n + (1n << 32n) : n).toString(conv === 'o' ? 8 : 16);
        if (conv === 'X') body = body.toUpperCase();
        break;
      }
      case 'f':
      case 'F':
        body = toNumber(arg).toFixed(precision ?? 6);
        if (flags.includes('+') && !body.startsWith('-')) body = `+${body}`;
        break;
      case 'e':
      case 'E':
        body = toNumber(arg).toExponential(precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
        if (conv === 'E') body = body.toUpperCase();
        break;
      case 'g':
      case 'G':
        body = String(Number(toNumber(arg).toPrecision(precision || 6)));
        break;
      case 'c':
        body = typeof arg === 'string' ? arg.slice(0, 1) : String.fromCharCode(Number(toInt(arg)));
        break;
      case 's':
        body = stringOf(arg);
        if (precision !== undefined) body = body.slice(0, precision);
        break;
      case 'p':
        body = '0x7ffd5f3c2a10';
        break;
      default:
        body = '';
    }
    if (body.length < width) {
      if (flags.includes('-')) body = body.padEnd(width);
      else if (flags.includes('0') && conv !== 's' && conv !== 'c') body = body.startsWith('-') ? `-${body.slice(1).padStart(width - 1, '0')}` : body.padStart(width, '0');
      else body = body.padStart(width);
    }
    return body;
  });
}
