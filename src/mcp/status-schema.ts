/**
 * The output schema of `cluster_status`: the one place that describes router.status() to MCP
 * clients. Loose on purpose (extra fields pass), so that the router can add to its status without
 * breaking clients that validate structured content; swap this file when the status shape changes.
 */
import { z } from 'zod';

export const ClusterStatusSchema = z.looseObject({
  queue: z.looseObject({ waiting: z.number(), running: z.number(), max_queue: z.number(), max_wait_ms: z.number(), slots: z.number() }),
  nodes: z.array(
    z.looseObject({
      name: z.string(),
      healthy: z.boolean(),
      breaker: z.enum(['closed', 'open', 'half_open']),
      in_flight: z.number(),
      queued: z.number(),
      max_concurrent: z.number(),
      tier: z.number(),
      weight: z.number(),
      latency_ms: z.number().nullable().describe('Recent answer time in ms; null before the first answer.'),
      completed: z.number(),
      faults: z.number(),
      runtimes: z.array(z.string()),
      last_error: z.object({ message: z.string(), at: z.string() }).nullable(),
    }),
  ),
});
