/** The config file's JSON Schema, generated from the zod schema (config/pistom.schema.json). */
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    title: 'pistom configuration',
    ...schema,
  };
}
