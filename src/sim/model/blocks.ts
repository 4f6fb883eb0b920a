/**
 * Splits program text into a statement tree: indentation blocks for python, braces and
 * semicolons for the C family, JavaScript, Java, Go, Rust and the like.
 */

export interface Stmt {
  /** The statement (or block header) without its trailing `:` / `{`. */
  text: string;
  /** 1-based line of its first character. */
  line: number;
  body?: Stmt[];
}

/** Removes python comments (outside strings) from one line. */
function stripHashComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

/**
 * Walks code outside string literals, keeping the bracket depth; `visit` sees every other character
 * and stops the walk by returning true. Says where it stopped (-1 at the end) and which quote is
 * still open at the end.
 */
function scanCode(text: string, quotes: string, triple: boolean, visit?: (ch: string, i: number, depth: number) => boolean): { depth: number; openQuote: string | null; stoppedAt: number } {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (text.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = null;
      }
    } else if (quotes.includes(ch)) {
      quote = triple && text.startsWith(ch.repeat(3), i) ? ch.repeat(3) : ch;
      i += quote.length - 1;
    } else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (visit?.(ch, i, depth)) return { depth, openQuote: quote, stoppedAt: i };
  }
  return { depth, openQuote: quote, stoppedAt: -1 };
}

/** Bracket depth change, plus one while a triple-quoted string is still open at the end of the text. */
function bracketBalance(text: string): number {
  const { depth, openQuote } = scanCode(text, `"'`, true);
  return openQuote && openQuote.length === 3 ? depth + 1 : depth;
}

/** Splits `a; b` on semicolons outside strings and brackets. */
function splitSemicolons(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  scanCode(text, `"'\``, false, (ch, i, depth) => {
    if (ch === ';' && depth === 0) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
    return false;
  });
  parts.push(text.slice(from));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Finds the `:` ending a python block header (outside brackets and strings), or -1. */
function headerColon(text: string): number {
  return scanCode(text, `"'`, false, (ch, _i, depth) => ch === ':' && depth === 0).stoppedAt;
}

const PY_BLOCK_KEYWORDS = /^(if|elif|else|while|for|try|except|finally|with|def|class|async\s+def|async\s+for|async\s+with|match|case)\b/;

export function parsePythonBlocks(source: string): Stmt[] {
  const raw = source.replace(/\r\n?/g, '\n').split('\n');
  const logical: Array<{ indent: number; text: string; line: number }> = [];
  for (let i = 0; i < raw.length; i++) {
    let text = stripHashComment(raw[i]!);
    const line = i + 1;
    let depth = bracketBalance(text);
    while ((depth > 0 || text.endsWith('\\')) && i + 1 < raw.length) {
      if (text.endsWith('\\')) text = text.slice(0, -1);
      const more = raw[++i]!;
      text += `\n${depth > 0 ? more : stripHashComment(more)}`;
      depth = bracketBalance(text);
    }
    if (text.trim().length === 0) continue;
    logical.push({ indent: text.length - text.trimStart().length, text: text.trim(), line });
  }
  let at = 0;
  const readBlock = (indent: number): Stmt[] => {
    const stmts: Stmt[] = [];
    while (at < logical.length && logical[at]!.indent >= indent) {
      const { text, line, indent: own } = logical[at++]!;
      const colon = PY_BLOCK_KEYWORDS.test(text) ? headerColon(text) : -1;
      if (colon === -1) {
        for (const part of splitSemicolons(text)) stmts.push({ text: part, line });
        continue;
      }
      const header = text.slice(0, colon).trim();
      const inline = text.slice(colon + 1).trim();
      const body = inline
        ? splitSemicolons(inline).map((part) => ({ text: part, line }))
        : at < logical.length && logical[at]!.indent > own
          ? readBlock(logical[at]!.indent)
          : [];
      stmts.push({ text: header, line, body });
    }
    return stmts;
  };
  return readBlock(0);
}

/** Removes // and /* *\/ comments and preprocessor lines, keeping line breaks for line numbers. */
export function stripCComments(source: string, hashComments = false): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (quote) {
      out += ch;
      if (ch === '\\' && i + 1 < source.length) out += source[++i];
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      if (ch === "'" && hashComments && /\w/.test(source[i - 1] ?? '')) {
        out += ch; // an apostrophe in a word (Rust lifetimes, shell words)
        continue;
      }
      quote = ch;
      out += ch;
    } else if (ch === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else if (ch === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const comment = source.slice(i, end === -1 ? source.length : end + 2);
      out += comment.replace(/[^\n]/g, ' ');
      i = end === -1 ? source.length : end + 1;
    } else if (ch === '#' && (hashComments || /(^|\n)[ \t]*$/.test(out))) {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else {
      out += ch;
    }
  }
  return out;
}

/** Whether a `{` after this statement text opens a value (object/array initializer) rather than a block. */
function opensValue(before: string): boolean {
  const t = before.trimEnd();
  if (t.length === 0) return false;
  return /(=|\(|,|\[|\breturn|:|\?|\|\||&&|\?\?)$/.test(t) && !/=>$/.test(t) && !/^(case|default)\b/.test(t);
}

export function parseBraceBlocks(source: string): Stmt[] {
  const src = stripCComments(source);
  let i = 0;
  let line = 1;
  const readBlock = (): Stmt[] => {
    const stmts: Stmt[] = [];
    let text = '';
    let startLine = line;
    let depth = 0;
    const push = (stmt: Stmt): void => {
      if (stmt.text.length > 0 || stmt.body) stmts.push(stmt);
    };
    while (i < src.length) {
      const ch = src[i]!;
      if (text.trim().length === 0) startLine = line;
      if (ch === '\n') line++;
      if (ch === '"' || ch === "'" || ch === '`') {
        let j = i + 1;
        while (j < src.length && src[j] !== ch) {
          if (src[j] === '\\') j++;
          j++;
        }
        const lit = src.slice(i, j + 1);
        line += lit.split('\n').length - 1;
        text += lit;
        i = j + 1;
        continue;
      }
      if (ch === '(' || ch === '[') depth++;
      if (ch === ')' || ch === ']') depth--;
      if (ch === '{' && depth === 0) {
        if (opensValue(text)) {
          // keep the balanced literal in the statement text
          let d = 0;
          let j = i;
          for (; j < src.length; j++) {
            if (src[j] === '\n') line++;
            if (src[j] === '{') d++;
            else if (src[j] === '}' && --d === 0) break;
          }
          text += src.slice(i, j + 1);
          i = j + 1;
          continue;
        }
        i++;
        const header = text.trim();
        const body = readBlock();
        push({ text: header, line: startLine, body });
        text = '';
        continue;
      }
      if (ch === '}' && depth === 0) {
        i++;
        push({ text: text.trim(), line: startLine });
        return stmts;
      }
      if (ch === ';' && depth === 0) {
        push({ text: text.trim(), line: startLine });
        text = '';
        i++;
        continue;
      }
      if (ch === '\n' && depth === 0 && endsStatementAtNewline(text)) {
        push({ text: text.trim(), line: startLine });
        text = '';
        i++;
        continue;
      }
      text += ch;
      i++;
    }
    push({ text: text.trim(), line: startLine });
    return stmts;
  };
  return readBlock();
}

/**
 * Languages without semicolons (Go, Kotlin, Swift, JS without semicolons): a newline ends a
 * statement unless the text clearly continues (an operator at the end, a block header).
 */
function endsStatementAtNewline(text: string): boolean {
  const t = text.trim();
  if (t.length === 0) return false;
  if (/([=+\-*/%&|^<>!?:,.(]|\b(return|else|do))$/.test(t)) return false;
  if (/^(if|for|while|switch|else|do|try|catch|finally|func|fn|fun|def|class|struct|impl|loop|unless|until|namespace)\b/.test(t)) return false;
  return !/^[\w:<>*&\s,[\]]+\s+[\w:~]+\s*\(.*\)(\s*const)?$/s.test(t) || t.includes('=');
}
