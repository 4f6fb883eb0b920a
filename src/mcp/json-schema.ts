/**
 * Tool schemas as clients read them, written in the portable subset: nullable fields as `anyOf`
 * branches with one `type` each (not `type: ["number", "null"]`, which single-type dialects such
 * as the OpenAPI subset behind Gemini function declarations reject), and open objects as
 * `additionalProperties: true` (not `{}`). The zod schemas stay the source of truth: they validate,
 * and their JSON Schema is written once, the first time a client lists the tools (not compiled into
 * a second validator at start, which cost most of pistom's start-up).
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

type Node = Record<string, unknown>;

function portable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portable);
  if (typeof node !== 'object' || node === null) return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node as Node)) out[key] = portable(value);
  if (typeof out.additionalProperties === 'object' && out.additionalProperties !== null && Object.keys(out.additionalProperties).length === 0) out.additionalProperties = true;
  if (Array.isArray(out.type)) {
    const { type, ...rest } = out;
    const types = type as string[];
    const branches = types.map((t) => (t === 'null' ? { type: 'null' } : { type: t, ...rest }));
    const shared = Object.fromEntries(Object.entries(rest).filter(([k]) => k === 'description' || k === 'title'));
    return { ...shared, anyOf: branches };
  }
  return out;
}

/** A zod schema that validates as itself and describes itself in portable JSON Schema, for tools/list. */
export function portableSchema(schema: z.ZodType, io: 'input' | 'output'): StandardSchemaWithJSON {
  let json: Record<string, unknown> | undefined;
  const describe = () => (json ??= portable(z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' })) as Record<string, unknown>);
  return {
    '~standard': {
      version: 1,
      vendor: 'pistom',
      validate: (value) => schema['~standard'].validate(value),
      jsonSchema: { input: describe, output: describe },
    },
  };
}
