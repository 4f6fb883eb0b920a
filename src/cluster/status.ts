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
      reason: z
        .enum(['misconfigured', 'unresponsive', 'breaker_open', 'unhealthy'])
        .describe("breaker_open and unhealthy appear only for another process's verdict (a shared store); this process's own show in breaker and health."),
      detail: z.string(),
      at: z.string(),
      by: z.string().describe('The pistom process (pid@host) that ejected the node: this one, or another of the fleet.'),
    })
    .optional()
    .describe('Present while the node is out of rotation besides its breaker: ejected by this process, or (with a shared store) by another.'),
  in_flight: z.number(),
  fleet_slots_held: z.number().optional().describe("Slots held on the node by every pistom process of the fleet, as last read from the shared store; absent without one."),
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

/** The shared store of a fleet of pistom processes, as cluster_status shows it (absent without one). */
export const FleetSummarySchema = z.object({
  mode: z.enum(['redis', 'local']).describe('redis: node limits, ejections, runtime lists, client limits and tasks are shared by the fleet; local: Redis is unreachable and this process keeps its own limits.'),
  redis: z.enum(['connecting', 'up', 'down']),
  reason: z.string().optional().describe('Why Redis is unreachable (never its URL).'),
  process: z.string().describe('This process (pid@host), as it appears in ejection records.'),
  slots_held_here: z.number().describe('Node slots this process holds in Redis now.'),
  local_limit: z.string().describe("What each process keeps to while Redis is unreachable."),
  outages: z.number().describe('Times Redis became unreachable since this process started.'),
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;
