/**
 * The text form of results, for MCP clients that read no structured content: stdout, stderr,
 * exit code and status clearly delimited, and a plain word when output was cut.
 */
import type { ExecuteOutput, StageResult } from '../request/schema.js';

export function describeStatus(stage: StageResult): string {
  switch (stage.status) {
    case null:
      return stage.code === 0 || stage.code === null ? 'ok' : `exited with code ${stage.code}`;
    case 'RE':
      return `runtime error: exited with code ${stage.code}${stage.code === 137 ? ' (killed: probably out of memory)' : stage.code === 139 ? ' (segmentation fault)' : ''}`;
    case 'SG':
      return `killed by signal ${stage.signal ?? 'unknown'}`;
    case 'TO':
      return `${(stage.message ?? 'time limit exceeded').toLowerCase()}: the program was killed`;
    case 'OL':
      return 'OUTPUT TRUNCATED: stdout went over the node\'s output limit and the program was killed; what stdout shows is incomplete';
    case 'EL':
      return 'OUTPUT TRUNCATED: stderr went over the node\'s output limit and the program was killed; what stderr shows is incomplete';
    case 'XX':
      return 'internal sandbox error on the node';
  }
}

function section(title: string, body: string): string {
  return `--- ${title} ---\n${body.length === 0 ? '(empty)' : body.endsWith('\n') ? body.slice(0, -1) : body}`;
}

export function compileFailed(output: ExecuteOutput): boolean {
  const compile = output.compile;
  return compile !== undefined && (compile.status !== null || (compile.code !== null && compile.code !== 0));
}

export function formatExecuteText(output: ExecuteOutput): string {
  const lines: string[] = [`${output.language} ${output.version} on node ${output.node}${output.attempts > 1 ? ` (after ${output.attempts} attempts)` : ''}`];
  if (output.compile && compileFailed(output)) {
    lines.push(section('compile output', output.compile.output));
    const compile = output.compile;
    const how = compile.status === 'TO' ? describeStatus(compile) : compile.status === null || compile.status === 'RE' ? `the compiler exited with code ${compile.code}` : describeStatus(compile);
    lines.push(`--- result: COMPILE ERROR (${how}); the program did not run ---`);
    return lines.join('\n');
  }
  lines.push(section('stdout', output.run.stdout));
  lines.push(section('stderr', output.run.stderr));
  lines.push(`--- exit code: ${output.run.code ?? 'none'} | signal: ${output.run.signal ?? 'none'} | status: ${describeStatus(output.run)} ---`);
  return lines.join('\n');
}
