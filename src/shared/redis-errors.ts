/**
 * Redis's own error texts, with what to change added where the text alone does not say it. Used
 * wherever a Redis failure is shown: `pistom check`, the logs, `/readyz` and `cluster_status`.
 * The text passed in must already be redacted.
 */
import { Redactor, urlSecrets } from '../util/redact.js';
const HINTS: Array<[RegExp, string]> = [
  [/^NOAUTH\b/, 'this Redis needs a password: put it in the URL (redis://:PASSWORD@host:port, or redis://USER:PASSWORD@host:port with an ACL user)'],
  [/^WRONGPASS\b/, 'the user or password in the URL is wrong'],
  [/\bECONNREFUSED\b/, 'nothing listens at that address: is redis-server running, and on that port?'],
  [/\bENOTFOUND\b|\bEAI_AGAIN\b/, 'the host name in the URL does not resolve'],
  [/self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate/i, "Redis's TLS certificate is not trusted: give its CA with NODE_EXTRA_CA_CERTS"],
  [/\bwrong version number\b|\bpacket length too long\b/i, 'rediss:// (TLS) against a Redis that speaks plain TCP, or the reverse'],
];

/** Describes an error of the Redis at `url`: its text without any part of the URL, explained. */
export function redisErrorDescriber(url: string): (error: unknown) => string {
  const redactor = new Redactor([url, ...urlSecrets(url)]);
  return (error) => explainRedisError(redactor.redact(error instanceof Error ? error.message : String(error)));
}

export function explainRedisError(text: string): string {
  for (const [pattern, hint] of HINTS) if (pattern.test(text)) return `${text.trim().replace(/\.$/, '')} (${hint})`;
  return text;
}
