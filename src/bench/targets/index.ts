import type { TargetSpec } from '../options.js';
import { createMcpHttpTarget } from './mcp-http.js';
import { createMcpStdioTarget } from './mcp-stdio.js';
import { createPistonTarget } from './piston.js';
import type { Target, TargetContext } from './target.js';

export type { BenchRequest, RuntimeInfo, Target, TargetContext } from './target.js';

export function createTarget(spec: TargetSpec, context: TargetContext): Target {
  switch (spec.kind) {
    case 'piston':
      return createPistonTarget(spec.urls, context);
    case 'mcp-http':
      return createMcpHttpTarget(spec.url, context);
    case 'mcp-stdio':
      return createMcpStdioTarget(spec.command, context);
  }
}
