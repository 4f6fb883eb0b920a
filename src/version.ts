import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** pistom's package.json: the nearest one above this file (dist/, or dist/cli-chunks/ in the bundled CLI). */
function packageJson(): { version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { version: string };
  }
  return { version: 'unknown' };
}

/** The package version, read once from package.json. */
export const VERSION: string = packageJson().version;
