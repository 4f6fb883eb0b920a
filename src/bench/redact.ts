/** Keeps header values (tokens) and URL passwords out of anything the bench prints or writes. */
export interface Redactor {
  (text: string): string;
}

export function createRedactor(secrets: string[]): Redactor {
  const needles = [...new Set(secrets.filter((s) => s.trim().length >= 3))].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const needle of needles) out = out.split(needle).join('***');
    return out;
  };
}

/** The secrets of a header set: each full value and, for "Scheme token" values, the token alone. */
export function headerSecrets(headers: Record<string, string>): string[] {
  return Object.values(headers).flatMap((value) => {
    const parts = value.trim().split(/\s+/);
    return parts.length > 1 ? [value, value.trim(), parts.slice(1).join(' ')] : [value];
  });
}

/** A URL without user info, for printing. */
export function displayUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return text;
  }
}

export function urlSecrets(urls: string[]): string[] {
  return urls.flatMap((text) => {
    try {
      const url = new URL(text);
      return [url.password, url.username].filter((s) => s.length > 0).map(decodeURIComponent);
    } catch {
      return [];
    }
  });
}
