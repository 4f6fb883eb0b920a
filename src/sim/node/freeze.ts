/**
 * A frozen node (SIGSTOP, a stuck event loop): the kernel still accepts connections, but the
 * process answers nothing, not even requests already running, until it is thawed. In process, the
 * node keeps accepting and parks every piece of work that would answer, then runs it on thaw in
 * the order it was parked.
 */
export class FreezeGate {
  private frozen = false;
  private parked: Array<() => void> = [];

  get isFrozen(): boolean {
    return this.frozen;
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    const work = this.parked;
    this.parked = [];
    for (const fn of work) fn();
  }

  /** Runs `fn` now, or on thaw while frozen. */
  pass(fn: () => void): void {
    if (this.frozen) this.parked.push(fn);
    else fn();
  }

  /** A crash: parked work is lost, and a restarted process is not frozen. */
  reset(): void {
    this.frozen = false;
    this.parked = [];
  }
}
