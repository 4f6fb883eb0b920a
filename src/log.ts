/**
 * Structured logs (pino) on stderr: stdout belongs to the stdio transport. Anything that could
 * carry a secret (node headers, Authorization, tokens) is redacted by path.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'headers',
  '*.headers',
  '*.*.headers',
  'authorization',
  '*.authorization',
  'auth_tokens',
  '*.auth_tokens',
  'token',
  '*.token',
];

export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      name: 'pistom',
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: destination, sync: false }),
  );
}

/** A logger that drops everything (library use and tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
