/**
 * What the cluster shows of each node (cluster_status, the status resource): one zod schema, the
 * TypeScript type and the MCP tool's output schema come from it. Unknown values are left out
 * rather than null, so that the JSON Schema stays portable across clients.
 */
import { z } from 'zod';

export const NodeStatusSchema = z.object({
  name: z.string(),
  url: z.string().describe('The API base URL, without credentials.'),
  health: z.enum(['unknown', 'healthy', 'unhealthy']).describe('unknown until the first health check.'),
  breaker: z.enum(['closed', 'open', 'half_open']),
  breaker_retry_after_ms: z.number().describe('Time left until an open breaker lets a probe through.'),
  ejected: z
    .object({
      reason: z.enum(['misconfigured', 'unresponsive']),
      detail: z.string(),
      at: z.string(),
      by: z.string().describe('The pistom process (pid@host) that ejected the node.'),
    })
    .optional()
    .describe('Present while the node is out of rotation besides its breaker.'),
  in_flight: z.number(),
  queued: z.number(),
  max_concurrent: z.number(),
  tier: z.number(),
  weight: z.number(),
  latency_ms: z.number().optional().describe('Recent answer time; absent before the first answer.'),
  completed: z.number(),
  faults: z.number(),
  runtimes: z.array(z.string()),
  last_error: z.object({ message: z.string(), at: z.string() }).optional(),
});
export type NodeStatus = z.infer<typeof NodeStatusSchema>;
