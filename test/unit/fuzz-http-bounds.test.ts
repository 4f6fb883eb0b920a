/** Property tests of the HTTP side's small bounds: the JSON depth scan and the per-client token bucket. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonDepthOver, requestIdOf } from '../../src/mcp/http/json-depth.js';
import { ClientRateLimiter } from '../../src/mcp/http/rate-limit.js';

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('JSON depth bound', () => {
  it('agrees with the depth of the parsed value, strings and escapes included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 1, max: 12 }), (value, limit) => {
        const text = JSON.stringify(value);
        expect(jsonDepthOver(text, limit) !== undefined).toBe(depthOf(value) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it('finds the id of a refused request, or null', () => {
    expect(requestIdOf('{"jsonrpc":"2.0","id":"a","x":[[[]]]}')).toBe('a');
    expect(requestIdOf('[{"id":1}]')).toBeNull();
    expect(requestIdOf('{"id":{"x":1}}')).toBeNull();
    expect(requestIdOf('not json')).toBeNull();
  });
});

describe('per-client token bucket', () => {
  it('lets a burst through, then one request per 1/rate s, with a Retry-After that is honest', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.1, max: 100, noNaN: true }), fc.integer({ min: 1, max: 20 }), (perSecond, burst) => {
        let now = 0;
        const limiter = new ClientRateLimiter({ perSecond, burst, now: () => now });
        for (let i = 0; i < burst; i++) expect(limiter.take('c').allowed).toBe(true);
        const refused = limiter.take('c');
        expect(refused.allowed).toBe(false);
        const wait = (refused as { retryAfterSeconds: number }).retryAfterSeconds;
        expect(wait).toBeGreaterThanOrEqual(1);
        expect(limiter.take('other').allowed, 'another client has its own bucket').toBe(true);
        now += wait * 1000;
        expect(limiter.take('c').allowed, 'after Retry-After a request passes').toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('remembers a bounded number of clients however many show up', () => {
    let now = 0;
    const limiter = new ClientRateLimiter({ perSecond: 1, burst: 2, maxClients: 100, now: () => now });
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`client-${i}`);
      now += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
