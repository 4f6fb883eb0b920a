/**
 * The unit tier's promise, enforced: a unit test opens no socket and starts no process. Anything
 * that listens or spawns throws here; such a test belongs to the integration tier. (Outgoing HTTP in
 * unit tests goes to nock with real connections disabled, so it never reaches the network.)
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function refuse(what: string): never {
  throw new Error(`unit tests open no socket and start no process (${what}); move this test to test/integration`);
}

net.Server.prototype.listen = function listen() {
  refuse('net.Server.listen');
} as typeof net.Server.prototype.listen;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  (childProcess as unknown as Record<string, unknown>)[name] = () => refuse(`child_process.${name}`);
}
// `import { spawn } from 'node:child_process'` binds to the ESM export: bring it in line.
syncBuiltinESMExports();
