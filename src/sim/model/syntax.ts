/**
 * A small, forgiving expression parser shared by every language the model reads: literals,
 * names, calls, members, indexing and slices, arithmetic, comparisons, lambdas and arrow
 * functions. Anything it cannot read throws Unmodelled, and the statement is then ignored.
 */

export class Unmodelled extends Error {
  constructor(what: string) {
    super(`unmodelled: ${what}`);
  }
}

export type Dialect = 'python' | 'c' | 'js' | 'generic';

export type Expr =
  | { t: 'str'; v: string; bytes?: boolean }
  | { t: 'fstr'; parts: Array<string | Expr> }
  | { t: 'num'; v: number | bigint }
  | { t: 'name'; v: string }
  | { t: 'list'; items: Expr[] }
  | { t: 'unary'; op: string; e: Expr }
  | { t: 'postfix'; op: string; e: Expr }
  | { t: 'bin'; op: string; l: Expr; r: Expr }
  | { t: 'cond'; c: Expr; a: Expr; b: Expr }
  | { t: 'call'; f: Expr; args: Expr[]; kwargs: Array<[string, Expr]>; macro?: boolean }
  | { t: 'new'; f: Expr; args: Expr[] }
  | { t: 'member'; o: Expr; name: string }
  | { t: 'index'; o: Expr; i: Expr }
  | { t: 'slice'; o: Expr; from?: Expr; to?: Expr }
  | { t: 'lambda'; params: string[]; body: Expr | { block: string } };

interface Token {
  k: 'str' | 'num' | 'name' | 'op' | 'end';
  v: string;
  /** decoded string value / prefix info for strings */
  s?: string;
  bytes?: boolean;
  fmt?: boolean;
  start: number;
  end: number;
}

const OPS = [
  '...', '===', '!==', '**=', '//=', '>>=', '<<=',
  '**', '//', '==', '!=', '<=', '>=', '<<', '>>', '&&', '||', '=>', '->', '::', '+=', '-=', '*=', '/=', '%=', '++', '--', '?.', '??',
];
const NAME_START = /[A-Za-z_$\u00c0-\uffff]/;
const NAME_PART = /[A-Za-z0-9_$\u00c0-\uffff]/;

export function decodeEscapes(raw: string, dialect: Dialect): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch !== '\\' || i + 1 >= raw.length) {
      out += ch;
      continue;
    }
    const next = raw[++i]!;
    switch (next) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'e': out += '\x1b'; break;
      case 'x': {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(raw.slice(i + 1))?.[0] ?? '';
        out += String.fromCharCode(parseInt(hex || '0', 16));
        i += hex.length;
        break;
      }
      case 'u': {
        if (raw[i + 1] === '{') {
          const close = raw.indexOf('}', i);
          out += String.fromCodePoint(parseInt(raw.slice(i + 2, close), 16) || 0);
          i = close;
        } else {
          out += String.fromCharCode(parseInt(raw.slice(i + 1, i + 5), 16) || 0);
          i += 4;
        }
        break;
      }
      case 'U':
        out += String.fromCodePoint(parseInt(raw.slice(i + 1, i + 9), 16) || 0);
        i += 8;
        break;
      case '\n':
        break; // line continuation
      default:
        if (/[0-7]/.test(next) && dialect !== 'js') {
          const oct = /^[0-7]{1,3}/.exec(raw.slice(i))![0];
          out += String.fromCharCode(parseInt(oct, 8));
          i += oct.length - 1;
        } else if (next === '0') {
          out += '\0';
        } else {
          out += next;
        }
    }
  }
  return out;
}

export function tokenize(src: string, dialect: Dialect): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\\') {
      i++;
      continue;
    }
    if (ch === '#' && dialect === 'python') break;
    if (ch === '/' && src[i + 1] === '/' && dialect !== 'python') break;
    const start = i;
    // string literal, with python prefixes (b, r, f, u and combinations)
    const prefix = dialect === 'python' ? /^([rRbBfFuU]{0,2})(['"])/.exec(src.slice(i, i + 4)) : null;
    if (ch === '"' || ch === "'" || ch === '`' || (prefix && prefix[1]!.length > 0 && !NAME_PART.test(src[i - 1] ?? ' '))) {
      const flags = prefix ? prefix[1]!.toLowerCase() : '';
      i += flags.length;
      const quote = src[i]!;
      const triple = dialect === 'python' && src.startsWith(quote.repeat(3), i);
      const delim = triple ? quote.repeat(3) : quote;
      i += delim.length;
      let raw = '';
      while (i < src.length && !src.startsWith(delim, i)) {
        if (src[i] === '\\' && i + 1 < src.length) {
          raw += src[i]! + src[i + 1]!;
          i += 2;
        } else {
          raw += src[i++];
        }
      }
      i += delim.length;
      const isRaw = flags.includes('r');
      tokens.push({
        k: 'str',
        v: src.slice(start, i),
        s: isRaw ? raw : decodeEscapes(raw, dialect),
        bytes: flags.includes('b'),
        fmt: flags.includes('f') || quote === '`',
        start,
        end: i,
      });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)[uUlLfFnjJ]*/.exec(src.slice(i))!;
      i += m[0].length;
      tokens.push({ k: 'num', v: m[0], s: m[1]!, start, end: i });
      continue;
    }
    if (NAME_START.test(ch)) {
      while (i < src.length && NAME_PART.test(src[i]!)) i++;
      tokens.push({ k: 'name', v: src.slice(start, i), start, end: i });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i)) ?? ch;
    i += op.length;
    tokens.push({ k: 'op', v: op, start, end: i });
  }
  tokens.push({ k: 'end', v: '', start: src.length, end: src.length });
  return tokens;
}

const BINARY: Record<string, number> = {
  '??': 1, or: 1, '||': 1,
  and: 2, '&&': 2,
  in: 4, 'not in': 4, is: 4, 'is not': 4, '==': 4, '!=': 4, '===': 4, '!==': 4, '<': 4, '>': 4, '<=': 4, '>=': 4, instanceof: 4,
  '|': 5, '^': 6, '&': 7, '<<': 8, '>>': 8,
  '+': 9, '-': 9, '*': 10, '/': 10, '//': 10, '%': 10,
  '**': 12,
};

export class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(private readonly src: string, private readonly dialect: Dialect) {
    this.tokens = tokenize(src, dialect);
  }

  static parse(src: string, dialect: Dialect): Expr {
    const parser = new Parser(src, dialect);
    const expr = parser.expression();
    if (parser.peek().k !== 'end' && !(parser.peek().v === ';')) throw new Unmodelled(`trailing ${parser.peek().v}`);
    return expr;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[Math.min(this.pos++, this.tokens.length - 1)]!;
  }
  private accept(v: string): boolean {
    const t = this.peek();
    if ((t.k === 'op' || t.k === 'name') && t.v === v) {
      this.pos++;
      return true;
    }
    return false;
  }
  private expect(v: string): void {
    if (!this.accept(v)) throw new Unmodelled(`expected ${v}`);
  }

  expression(): Expr {
    const lambda = this.tryLambda();
    if (lambda) return lambda;
    let e = this.binary(0);
    if (this.dialect === 'python' && this.peek().v === 'if' && this.peek().k === 'name') {
      this.next();
      const c = this.binary(0);
      this.expect('else');
      e = { t: 'cond', c, a: e, b: this.expression() };
    } else if (this.accept('?')) {
      const a = this.expression();
      this.expect(':');
      e = { t: 'cond', c: e, a, b: this.expression() };
    }
    return e;
  }

  /** `lambda x: e`, `x => e`, `(a, b) => e | { block }` */
  private tryLambda(): Expr | null {
    const t = this.peek();
    if (this.dialect === 'python' && t.k === 'name' && t.v === 'lambda') {
      this.next();
      const params: string[] = [];
      while (!this.accept(':')) {
        const p = this.next();
        if (p.k === 'end') throw new Unmodelled('lambda');
        if (p.k === 'name') params.push(p.v);
      }
      return { t: 'lambda', params, body: this.expression() };
    }
    if (this.dialect === 'python') return null;
    let params: string[] | null = null;
    let after = 0;
    if (t.k === 'name' && t.v === 'async') return this.next() && this.tryLambda();
    if (t.k === 'name' && this.peek(1).v === '=>') {
      params = [t.v];
      after = 2;
    } else if (t.v === '(') {
      const names: string[] = [];
      let j = 1;
      for (;;) {
        const p = this.peek(j);
        if (p.v === ')') break;
        if (p.k === 'name') names.push(p.v);
        else if (p.v !== ',') return null;
        j++;
      }
      if (this.peek(j + 1).v !== '=>') return null;
      params = names;
      after = j + 2;
    } else if (t.k === 'name' && t.v === 'function' && this.peek(1).v === '(') {
      const names: string[] = [];
      let j = 2;
      while (this.peek(j).v !== ')' && this.peek(j).k !== 'end') {
        if (this.peek(j).k === 'name') names.push(this.peek(j).v);
        j++;
      }
      if (this.peek(j + 1).v !== '{') return null;
      this.pos += j + 1;
      return { t: 'lambda', params: names, body: { block: this.rawBlock() } };
    }
    if (!params) return null;
    this.pos += after;
    if (this.peek().v === '{') return { t: 'lambda', params, body: { block: this.rawBlock() } };
    return { t: 'lambda', params, body: this.expression() };
  }

  /** The raw text of a `{ ... }` block (the current token is its `{`). */
  private rawBlock(): string {
    const open = this.next();
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.k === 'end') throw new Unmodelled('unclosed block');
      if (t.v === '{') depth++;
      else if (t.v === '}') depth--;
    }
    return this.src.slice(open.end, this.tokens[this.pos - 1]!.start);
  }

  private binaryOp(): string | null {
    const t = this.peek();
    if (t.k === 'op' && t.v in BINARY) return t.v;
    if (t.k === 'name' && this.dialect === 'python') {
      if (t.v === 'not' && this.peek(1).v === 'in') return 'not in';
      if (t.v === 'is' && this.peek(1).v === 'not') return 'is not';
      if (t.v === 'and' || t.v === 'or' || t.v === 'in' || t.v === 'is') return t.v;
    }
    if (t.k === 'name' && t.v === 'instanceof') return t.v;
    return null;
  }

  private binary(minPrec: number): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.binaryOp();
      if (op === null) return left;
      const prec = BINARY[op]!;
      if (prec < minPrec) return left;
      this.pos += op.includes(' ') ? 2 : 1;
      const right = op === '**' ? this.binary(prec) : this.binary(prec + 1);
      left = { t: 'bin', op, l: left, r: right };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.k === 'op' && ['-', '+', '!', '~', '*', '&'].includes(t.v)) {
      this.next();
      return { t: 'unary', op: t.v, e: this.unary() };
    }
    if (t.k === 'op' && (t.v === '++' || t.v === '--')) {
      this.next();
      return { t: 'unary', op: t.v, e: this.unary() };
    }
    if (t.k === 'name' && (t.v === 'not' || t.v === 'typeof' || t.v === 'await' || t.v === 'void')) {
      this.next();
      if (t.v === 'await') return this.unary();
      return { t: 'unary', op: t.v === 'not' ? '!' : t.v, e: t.v === 'not' ? this.binary(3) : this.unary() };
    }
    if (t.k === 'name' && t.v === 'new' && this.dialect !== 'python') {
      this.next();
      let f: Expr = { t: 'name', v: this.next().v };
      while (this.accept('.') || this.accept('::')) f = { t: 'member', o: f, name: this.next().v };
      if (this.accept('<')) while (!this.accept('>')) this.next();
      const args = this.peek().v === '(' ? (this.next(), this.callArgs().args) : [];
      return this.postfix({ t: 'new', f, args });
    }
    if (t.k === 'op' && t.v === '(' && this.dialect === 'c' && this.isCast()) {
      while (!this.accept(')')) this.next();
      return this.unary();
    }
    return this.postfix(this.primary());
  }

  /** `(int)x`, `(char *)p`: a parenthesized type name in C. */
  private isCast(): boolean {
    let j = 1;
    const first = this.peek(j);
    if (first.k !== 'name' || !/^(int|char|long|short|unsigned|signed|double|float|void|size_t|uint\w*|int\w*_t|const|struct|bool)$/.test(first.v)) return false;
    while (this.peek(j).v !== ')') {
      if (this.peek(j).k === 'end') return false;
      j++;
    }
    return true;
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.k) {
      case 'str': {
        let value = t.s!;
        let fmt = t.fmt ?? false;
        // adjacent literals concatenate in python and C
        while (this.peek().k === 'str' && this.dialect !== 'js') {
          const more = this.next();
          if (more.fmt) fmt = true;
          value += more.s!;
        }
        if (fmt) return { t: 'fstr', parts: this.interpolate(value) };
        return { t: 'str', v: value, bytes: t.bytes ?? false };
      }
      case 'num':
        return { t: 'num', v: parseNumber(t.v, t.s!, this.dialect) };
      case 'name':
        if (this.peek().v === '!' && this.peek(1).v === '(' && this.dialect === 'generic') {
          this.next();
          return { t: 'name', v: `${t.v}!` };
        }
        return { t: 'name', v: t.v };
      case 'op':
        if (t.v === '(') {
          if (this.accept(')')) return { t: 'list', items: [] };
          const e = this.expression();
          if (this.accept(',')) {
            const items = [e];
            while (!this.accept(')')) {
              items.push(this.expression());
              this.accept(',');
            }
            return { t: 'list', items };
          }
          this.expect(')');
          return e;
        }
        if (t.v === '[' || (t.v === '{' && this.dialect === 'c')) {
          const close = t.v === '[' ? ']' : '}';
          const items: Expr[] = [];
          while (!this.accept(close)) {
            items.push(this.expression());
            if (this.dialect === 'python' && this.peek().v === 'for') throw new Unmodelled('comprehension');
            if (!this.accept(',') && this.peek().v !== close) throw new Unmodelled('list');
          }
          return { t: 'list', items };
        }
        break;
      default:
        break;
    }
    throw new Unmodelled(`token ${t.v || 'end'}`);
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.v === '(' && t.k === 'op') {
        this.next();
        const { args, kwargs } = this.callArgs();
        e = { t: 'call', f: e, args, kwargs };
      } else if ((t.v === '.' || t.v === '->' || t.v === '?.' || t.v === '::') && t.k === 'op') {
        this.next();
        const name = this.next();
        if (name.k !== 'name') throw new Unmodelled('member');
        e = { t: 'member', o: e, name: name.v };
      } else if (t.v === '[' && t.k === 'op') {
        this.next();
        if (this.dialect === 'python' && this.peek().v === ':') {
          this.next();
          const to = this.peek().v === ']' ? undefined : this.expression();
          this.expect(']');
          e = { t: 'slice', o: e, ...(to ? { to } : {}) };
          continue;
        }
        const i = this.expression();
        if (this.dialect === 'python' && this.accept(':')) {
          const to = this.peek().v === ']' ? undefined : this.expression();
          this.expect(']');
          e = { t: 'slice', o: e, from: i, ...(to ? { to } : {}) };
          continue;
        }
        this.expect(']');
        e = { t: 'index', o: e, i };
      } else if ((t.v === '++' || t.v === '--') && t.k === 'op') {
        this.next();
        e = { t: 'postfix', op: t.v, e };
      } else if (t.v === '!' && t.k === 'op' && this.dialect === 'generic' && this.peek(1).v === '(') {
        this.next();
        if (e.t === 'name') e = { t: 'name', v: `${e.v}!` };
      } else {
        return e;
      }
    }
  }

  private callArgs(): { args: Expr[]; kwargs: Array<[string, Expr]> } {
    const args: Expr[] = [];
    const kwargs: Array<[string, Expr]> = [];
    while (!this.accept(')')) {
      if (this.peek().k === 'end') throw new Unmodelled('call');
      if (this.dialect === 'python' && this.peek().k === 'name' && this.peek(1).v === '=' ) {
        const name = this.next().v;
        this.next();
        kwargs.push([name, this.expression()]);
      } else {
        if (this.dialect === 'python') this.accept('*');
        if (this.dialect === 'c') this.accept('&');
        args.push(this.expression());
      }
      if (!this.accept(',') && this.peek().v !== ')') throw new Unmodelled('arguments');
    }
    return { args, kwargs };
  }

  /** Splits an f-string / template literal into text and expressions. */
  private interpolate(text: string): Array<string | Expr> {
    const parts: Array<string | Expr> = [];
    const js = this.dialect !== 'python';
    let i = 0;
    let literal = '';
    while (i < text.length) {
      if (js ? text.startsWith('${', i) : text[i] === '{' && text[i + 1] !== '{') {
        const open = js ? i + 2 : i + 1;
        let depth = 1;
        let j = open;
        while (j < text.length && depth > 0) {
          if (text[j] === '{') depth++;
          else if (text[j] === '}') depth--;
          if (depth > 0) j++;
        }
        if (literal) parts.push(literal);
        literal = '';
        let inner = text.slice(open, j);
        if (!js) inner = inner.replace(/(![rsa])?(:[^'"]*)?$/, '').replace(/=$/, '');
        parts.push(Parser.parse(inner, this.dialect));
        i = j + 1;
      } else if (!js && (text.startsWith('{{', i) || text.startsWith('}}', i))) {
        literal += text[i];
        i += 2;
      } else {
        literal += text[i++];
      }
    }
    if (literal) parts.push(literal);
    return parts;
  }
}

function parseNumber(token: string, body: string, dialect: Dialect): number | bigint {
  const clean = body.replace(/_/g, '');
  const isFloat = /^[^xX]*[.eE]/.test(clean) && !/^0[xX]/.test(clean);
  const floatSuffix = /[fF]$/.test(token) && dialect === 'c';
  if (isFloat || floatSuffix || dialect === 'js') return Number(clean.replace(/^0[oO]/, '0o'));
  try {
    return BigInt(clean.replace(/^0([0-7]+)$/, '0o$1'));
  } catch {
    return Number(clean);
  }
}
