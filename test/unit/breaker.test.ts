import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Breaker, type BreakerState } from '../../src/cluster/breaker.js';

describe('Breaker', () => {
  let now = 0;
  let changes: BreakerState[] = [];
  const make = (overrides: Partial<ConstructorParameters<typeof Breaker>[0]> = {}) =>
    new Breaker({ errorThresholdPercentage: 50, volumeThreshold: 4, consecutiveFailures: 3, windowMs: 10_000, resetTimeoutMs: 5_000, now: () => now, onChange: (s) => changes.push(s), ...overrides });

  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    changes = [];
  });
  afterEach(() => vi.useRealTimers());

  const advance = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };

  it('opens on a failure rate over the window once the volume is reached, not before', () => {
    const breaker = make({ consecutiveFailures: 100 });
    for (const outcome of ['failure', 'success', 'failure'] as const) breaker.record(breaker.tryAcquire()!, outcome);
    expect(breaker.state).toBe('closed'); // 3 outcomes < volume 4
    breaker.record(breaker.tryAcquire()!, 'failure');
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeUndefined();
  });

  it('opens after N failures in a row whatever the rate (a node that dies in a busy window)', () => {
    const breaker = make({ volumeThreshold: 1000 });
    for (let i = 0; i < 20; i++) breaker.record(breaker.tryAcquire()!, 'success');
    for (let i = 0; i < 3; i++) breaker.record(breaker.tryAcquire()!, 'failure');
    expect(breaker.state).toBe('open');
  });

  it('forgets outcomes older than the window', () => {
    const breaker = make({ consecutiveFailures: 100 });
    for (let i = 0; i < 3; i++) breaker.record(breaker.tryAcquire()!, 'failure');
    advance(11_000);
    breaker.record(breaker.tryAcquire()!, 'success');
    expect(breaker.window()).toEqual({ successes: 1, failures: 0 });
    breaker.record(breaker.tryAcquire()!, 'failure');
    expect(breaker.state).toBe('closed');
  });

  it('neutral outcomes count neither way', () => {
    const breaker = make();
    for (let i = 0; i < 10; i++) breaker.record(breaker.tryAcquire()!, 'neutral');
    expect(breaker.window()).toEqual({ successes: 0, failures: 0 });
    breaker.record(breaker.tryAcquire()!, 'failure');
    breaker.record(breaker.tryAcquire()!, 'neutral');
    breaker.record(breaker.tryAcquire()!, 'failure');
    expect(breaker.state).toBe('closed'); // neutral does not break a failure streak, nor extend it
  });

  it('says how long is left until the probe, not the whole reset timeout', () => {
    const breaker = make();
    breaker.forceOpen();
    expect(breaker.retryAfterMs()).toBe(5000);
    advance(3_200);
    expect(breaker.retryAfterMs()).toBe(1800);
    advance(1_800);
    expect(breaker.state).toBe('half_open');
    expect(breaker.retryAfterMs()).toBe(0);
  });

  it('lets one probe through when half-open; its success closes the breaker', () => {
    const breaker = make();
    breaker.forceOpen();
    advance(5_000);
    expect(breaker.allows).toBe(true);
    const probe = breaker.tryAcquire()!;
    expect(probe.probe).toBe(true);
    expect(breaker.allows).toBe(false);
    expect(breaker.tryAcquire()).toBeUndefined();
    breaker.record(probe, 'success');
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('a probe that fails reopens it for another reset timeout', () => {
    const breaker = make();
    breaker.forceOpen();
    advance(5_000);
    breaker.record(breaker.tryAcquire()!, 'failure');
    expect(breaker.state).toBe('open');
    expect(breaker.retryAfterMs()).toBe(5000);
  });

  it('a probe that was cancelled (or refused as a bad request) leaves it half-open with the probe free again', () => {
    const breaker = make();
    breaker.forceOpen();
    advance(5_000);
    breaker.record(breaker.tryAcquire()!, 'neutral');
    expect(breaker.state).toBe('half_open');
    expect(breaker.allows).toBe(true);
    const next = breaker.tryAcquire()!;
    expect(next.probe).toBe(true);
    breaker.record(next, 'success');
    expect(breaker.state).toBe('closed');
  });

  it('records each permit once, however often its outcome is reported', () => {
    const breaker = make({ consecutiveFailures: 2 });
    const permit = breaker.tryAcquire()!;
    breaker.record(permit, 'failure');
    breaker.record(permit, 'failure');
    expect(breaker.state).toBe('closed');
    expect(breaker.window().failures).toBe(1);
  });
});
