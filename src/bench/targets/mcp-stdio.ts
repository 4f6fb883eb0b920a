/** pistom over stdio: the bench starts the command and speaks MCP on its stdin/stdout. */
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { splitCommandLine } from '../command-line.js';
import { createMcpTarget } from './mcp-client.js';
import type { Target, TargetContext } from './target.js';

const STDERR_TAIL_BYTES = 2000;

export function createMcpStdioTarget(commandLine: string, context: TargetContext): Target {
  const [command, ...args] = splitCommandLine(commandLine);
  if (!command) throw new Error('--mcp-stdio needs a command');
  const transport = new StdioClientTransport({
    command,
    args,
    env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    stderr: 'pipe',
  });
  // The server's log goes nowhere near our output, but its tail explains a failed start.
  let stderrTail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  return createMcpTarget({
    kind: 'mcp-stdio',
    endpoints: [`stdio: ${command}`],
    transport,
    timeoutMs: context.timeoutMs,
    describeFailure: () => (stderrTail ? `\n--- server stderr (tail) ---\n${stderrTail.trimEnd()}` : ''),
  });
}
