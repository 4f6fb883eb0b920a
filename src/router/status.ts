/** The whole cluster as cluster_status shows it: the admission queue and every node. */
import { z } from 'zod';
import { FleetSummarySchema, NodeStatusSchema } from '../cluster/status.js';

export const ClusterStatusSchema = z.object({
  queue: z.object({ waiting: z.number(), running: z.number(), max_queue: z.number(), max_wait_ms: z.number(), slots: z.number() }),
  nodes: z.array(NodeStatusSchema),
  fleet: FleetSummarySchema.optional().describe('The shared store (shared.redis_url) of the pistom processes serving these nodes; absent when each process keeps its own state.'),
});
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;
