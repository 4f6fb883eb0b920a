/** The whole cluster as cluster_status shows it: the admission queue and every node. */
import { z } from 'zod';
import { NodeStatusSchema } from '../cluster/status.js';

export const ClusterStatusSchema = z.object({
  queue: z.object({ waiting: z.number(), running: z.number(), max_queue: z.number(), max_wait_ms: z.number(), slots: z.number() }),
  nodes: z.array(NodeStatusSchema),
});
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;
