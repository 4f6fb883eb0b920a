/**
 * The errors a call can end with, worded once: what happened and what the client can do.
 */
import type { NodeStatus } from '../cluster/cluster.js';
import type { PoisonRecord } from '../cluster/poison.js';
import { CallError } from '../errors.js';
import type { AttemptOutcome, NodeFault } from '../piston/outcome.js';

export function shuttingDown(): CallError {
  return new CallError('overload', 'shutting_down', 'pistom is shutting down and takes no new calls; retry on another replica or in a few seconds', 1000);
}

export function cancelled(message = 'the call was cancelled'): CallError {
  return new CallError('cancelled', 'cancelled', message);
}

/** Two nodes (or more) failed this exact request the same way: the request is at fault. */
export function poisoned(record: PoisonRecord): CallError {
  return new CallError(
    'request_error',
    'request_rejected_by_nodes',
    `nodes ${record.nodes.join(' and ')} both failed this request the same way${record.detail ? ` (${record.detail})` : ''}: the request itself trips the nodes, so it was not tried further. Change it: memory limits of a few KB are below the sandbox's own use (give run_memory_limit/compile_memory_limit at least several MB, or leave them out), and file names must stay inside the job folder`,
  );
}

/** The catalog is empty: no node answered its runtime list. */
export function noRuntimeList(nodes: NodeStatus[]): CallError {
  const misconfigured = nodes.filter((node) => node.ejected?.reason === 'misconfigured');
  if (misconfigured.length > 0 && misconfigured.length === nodes.length) {
    return new CallError('node_fault', 'node_misconfigured', `no node is usable as configured: ${misconfigured.map((node) => node.ejected!.detail).join('; ')}. Fix the configuration (see pistom check)`);
  }
  return new CallError('overload', 'no_node_available', 'no Piston node answered its runtime list: every node is unreachable right now; retry in a few seconds and check `pistom check`', 5000);
}

/** How a call ended after its last attempt, when that attempt gave no answer. */
export function afterAttempts(last: AttemptOutcome, failures: NodeFault[], attempts: number, node?: string): CallError {
  if (last.class === 'cancelled') return cancelled(last.message);
  if (last.class === 'request_error') {
    if (last.code === 'unknown_runtime') return new CallError('request_error', 'unknown_runtime', `${last.message}, and no other node offers it; see list_runtimes`);
    return new CallError('request_error', 'rejected_by_node', `${node ? `node ${node}` : 'the node'} refused the request: ${last.message}${capHint(last.message, node)}`);
  }
  const real = failures.filter((fault) => fault.reason !== 'breaker_open');
  if (real.length > 0 && real.every((fault) => fault.reason === 'misconfigured')) {
    return new CallError('node_fault', 'node_misconfigured', `${real.map((fault) => fault.message).join('; ')}. This is configuration, not an outage: fix the node's URL or headers (see pistom check)`);
  }
  const lastFault = real.at(-1) ?? (last.class === 'node_fault' ? last : undefined);
  const summary = failures
    .slice(-3)
    .map((fault) => fault.message)
    .join('; ');
  return new CallError('node_fault', lastFault?.reason ?? 'internal', `the call failed on ${attempts} attempt${attempts === 1 ? '' : 's'}: ${summary}. The cluster may be unhealthy; retry later or see cluster_status`);
}

/** No node could take the call (every candidate out of rotation, or all tried). */
export function noNode(language: string, version: string, candidates: NodeStatus[], failures: NodeFault[], attempts: number): CallError {
  const real = failures.filter((fault) => fault.reason !== 'breaker_open');
  if (real.length > 0) {
    if (real.every((fault) => fault.reason === 'misconfigured')) return afterAttempts(real.at(-1)!, real, attempts);
    return new CallError('node_fault', 'all_nodes_failed', `every node that offers ${language}-${version} failed: ${real.slice(-3).map((fault) => fault.message).join('; ')}. Retry later or see cluster_status`, 5000);
  }
  const misconfigured = candidates.filter((node) => node.ejected?.reason === 'misconfigured');
  if (misconfigured.length === candidates.length && candidates.length > 0) {
    return new CallError('node_fault', 'node_misconfigured', `no node that offers ${language}-${version} is usable as configured: ${misconfigured.map((node) => node.ejected!.detail).join('; ')}`);
  }
  const waits = candidates.map((node) => node.breaker_retry_after_ms).filter((ms) => ms > 0);
  const retryAfter = Math.max(1000, waits.length > 0 ? Math.min(...waits) : 1000);
  const states = candidates.map((node) => `${node.name}: ${describeState(node)}`).join(', ');
  return new CallError('overload', 'no_node_available', `no node can take ${language}-${version} right now (${states}); retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter);
}

function describeState(node: NodeStatus): string {
  if (node.ejected) return node.ejected.reason === 'unresponsive' ? 'not answering' : 'misconfigured';
  if (node.health === 'unhealthy') return 'unhealthy';
  if (node.breaker === 'open') return `breaker open for ${Math.ceil(node.breaker_retry_after_ms / 1000)} s more`;
  if (node.breaker === 'half_open') return 'breaker half-open, probe in progress';
  return 'busy';
}

/**
 * Piston refuses a limit over its own cap. pistom checked the call against the caps it was told, so
 * the two disagree: say which setting to correct.
 */
function capHint(message: string, node: string | undefined): string {
  const over = /^(\w+) cannot exceed the configured limit of (\d+)/.exec(message);
  if (!over) return '';
  return `. pistom's caps for ${node ? `node ${node}` : 'this node'} allow more than the node does: set its caps.${over[1]} to ${over[2]} in the configuration (Piston does not report its limits)`;
}
