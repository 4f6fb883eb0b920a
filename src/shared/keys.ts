/**
 * Every key and channel pistom uses in Redis, in one place. All start with `shared.key_prefix`
 * ("pistom:" by default): the processes that share a prefix form one fleet. Nodes are named as in
 * the configuration, so the processes of one fleet must name their nodes alike (they do when they
 * share a config file).
 *
 *   semaphore:{p}slots:{node}  sorted set: one member "{process}/{uuid}" per leased slot, scored by its
 *                              last renewal (ms); redis-semaphore puts "semaphore:" in front
 *   {p}slots                   channel: a node's name, each time a slot on it is released
 *   {p}rate:{node}:...         rate-limiter-flexible's counters for a node's rate_limit
 *   {p}verdicts                hash: "{node}\n{process}" -> that process's verdict (JSON, with `until`)
 *   {p}verdicts                channel: a verdict announced or withdrawn (JSON)
 *   {p}runtimes:{node}         string: the node's runtime list and when it was fetched (JSON, PX = catalog TTL)
 *   {p}runtimes-lock:{node}    string: held (NX, PX) by the process fetching that list for the fleet
 *   {p}clients:...             rate-limiter-flexible's counters of the per-client rate limit
 *   {p}task:{id}               string: one task record (JSON, PXAT = its expiry)
 *   {p}tasks:working           sorted set: ids of working tasks by expiry
 *   {p}tasks:settled           sorted set: ids of settled tasks by settle time (evicted oldest first)
 *   {p}tasks:cancel            channel: a task id whose cancellation was requested (JSON)
 */
export class SharedKeys {
  constructor(readonly prefix: string) {}

  slots(node: string): string {
    return `${this.prefix}slots:${node}`;
  }

  get slotsChannel(): string {
    return `${this.prefix}slots`;
  }

  rate(node: string): string {
    return `${this.prefix}rate:${node}`;
  }

  get verdicts(): string {
    return `${this.prefix}verdicts`;
  }

  verdictField(node: string, processId: string): string {
    return `${node}\n${processId}`;
  }

  runtimes(node: string): string {
    return `${this.prefix}runtimes:${node}`;
  }

  runtimesLock(node: string): string {
    return `${this.prefix}runtimes-lock:${node}`;
  }

  get clients(): string {
    return `${this.prefix}clients`;
  }

  task(id: string): string {
    return `${this.prefix}task:${id}`;
  }

  get tasksWorking(): string {
    return `${this.prefix}tasks:working`;
  }

  get tasksSettled(): string {
    return `${this.prefix}tasks:settled`;
  }

  get taskCancelChannel(): string {
    return `${this.prefix}tasks:cancel`;
  }
}
