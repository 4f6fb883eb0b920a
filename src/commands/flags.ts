/** Flag values the serving commands share. */
import { UsageError } from '../util/usage.js';

export function parseHostPort(value: string, flag = '--http'): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[^:]+):)?(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new UsageError(`${flag} expects HOST:PORT or PORT (e.g. 127.0.0.1:3000), got "${value}"`);
  const host = (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
