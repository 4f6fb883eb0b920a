/**
 * Programs for pistom's own tests. Each declares the outcome the test needs with the simulated
 * node's `pistom-sim:` directive (docs/sim.md), so that no router test depends on how the
 * simulator's interpreter reads a program, and a change in either cannot break the other. The
 * code after the directive is what a real Piston node would run, with the same outcome.
 */
import type { SimDirective } from '../../src/sim/index.js';

/** `code` with `outcome` declared on a first comment line (`#` for Python, `//` for C and JavaScript). */
export function declared(outcome: SimDirective, code: string, comment: '#' | '//' = '#'): string {
  return `${comment} pistom-sim: ${JSON.stringify(outcome)}\n${code}`;
}

/** A Python program that prints `text` and a newline. */
export function printing(text: string): string {
  return declared({ stdout: `${text}\n` }, `print(${JSON.stringify(text)})`);
}

/** The `execute` arguments of a call that succeeds and prints "hi". */
export const HELLO = { language: 'python', code: printing('hi') };
