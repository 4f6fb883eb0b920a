import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/router/retry-budget.js';

describe('RetryBudget', () => {
  it('allows retries up to a share of recent calls plus a floor, then refuses', () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 0, () => now);
    for (let i = 0; i < 100; i++) budget.recordCall();
    const granted = Array.from({ length: 50 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(20);
    now = 11_000; // the window has moved on: old calls and retries no longer count
    expect(budget.tryRetry()).toBe(false);
    for (let i = 0; i < 10; i++) budget.recordCall();
    expect(Array.from({ length: 5 }, () => budget.tryRetry()).filter(Boolean).length).toBe(2);
  });

  it('always grants the floor per second of window, even with no calls', () => {
    const budget = new RetryBudget(0, 1, () => 0);
    expect(Array.from({ length: 20 }, () => budget.tryRetry()).filter(Boolean).length).toBe(10);
  });
});
