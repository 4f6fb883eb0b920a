/**
 * Removes configured secrets from text that came from outside (a node's error message) or that
 * quotes configuration (a node URL). Every secret is replaced wherever it appears, in any of the
 * forms a node could echo it back in: as given, the token part of "Bearer x" / "Basic x", and the
 * base64 of URL credentials.
 */
const CENSOR = '[redacted]';
/** Shorter values are not worth hiding and would turn ordinary words into "[redacted]". */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    const unique = new Set<string>();
    for (const secret of secrets) {
      for (const form of secretForms(secret)) if (form.length >= MIN_SECRET_LENGTH) unique.add(form);
    }
    // Longest first, so that a secret containing another is replaced whole.
    this.secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  static readonly none = new Redactor([]);

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(CENSOR);
    return out;
  }
}

/** A value as given, trimmed, and for "Scheme token" values (Bearer, Basic, ...) the token alone. */
function secretForms(secret: string): string[] {
  const forms = [secret, secret.trim()];
  const scheme = /^\s*\S+\s+(.+)$/.exec(secret);
  if (scheme) forms.push(scheme[1]!.trim());
  return forms;
}

/** The secrets a node URL carries: its user name and password, raw and decoded, and their Basic form. */
export function urlSecrets(url: string): string[] {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(url)?.[1];
  if (!userinfo) return [];
  const [user = '', password = ''] = splitOnce(userinfo, ':');
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  const pair = `${decode(user)}:${decode(password)}`;
  return [user, password, decode(user), decode(password), userinfo, Buffer.from(pair).toString('base64')].filter((value) => value.length > 0);
}

/** A URL as it may be shown: without user name and password, even when it does not parse. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
  }
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}
