/**
 * The command line's one way to say what was wrong: strict flag parsing whose errors name the flag
 * and what is allowed, number flags checked the same way everywhere, and one usage error type that
 * every command (serve, check, sim, bench) throws and `pistom` turns into exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: the message names the flag and what is allowed. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly against `options`; a wrong flag becomes a UsageError that says what is allowed. */
export function parseFlags<T extends FlagOptions>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError((error as Error).message, options));
  }
}

function describeParseError(message: string, options: FlagOptions): string {
  const allowed = Object.keys(options)
    .map((flag) => `--${flag}`)
    .join(', ');
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown flag ${unknown[1]}; allowed: ${allowed}`;
  const missing = /Option '(--[\w-]+)/.exec(message);
  if (missing && /argument missing/.test(message)) return `${missing[1]} needs a value`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument "${positional[1]}": every setting is a --flag`;
  return message.split('.')[0]!;
}

/** A number given to `--flag`, checked: at least `min`, at most `max`, whole if `integer`. */
export function numberFlag(flag: string, raw: string, bounds: { min?: number; max?: number; integer?: boolean } = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = bounds;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} ${range}, got "${raw}"`);
  }
  return value;
}

/** How a usage error is shown: the command, what was wrong, where the help is. */
export function usageMessage(command: string, problem: string): string {
  return `pistom ${command}: ${problem} (see pistom ${command} --help)`;
}
