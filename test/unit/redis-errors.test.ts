import { describe, expect, it } from 'vitest';
import { explainRedisError } from '../../src/shared/redis-errors.js';

describe("Redis's errors, explained", () => {
  it.each([
    ['NOAUTH HELLO must be called with the client already authenticated', /^NOAUTH HELLO .* \(this Redis needs a password: put it in the URL/],
    ['WRONGPASS invalid username-password pair or user is disabled.', /^WRONGPASS invalid username-password pair or user is disabled \(the user or password in the URL is wrong\)$/],
    ['connect ECONNREFUSED 10.0.0.9:6379', /^connect ECONNREFUSED 10\.0\.0\.9:6379 \(nothing listens at that address/],
    ['getaddrinfo ENOTFOUND redis.internal', /\(the host name in the URL does not resolve\)$/],
    ['self-signed certificate', /NODE_EXTRA_CA_CERTS/],
    ['unable to verify the first certificate', /NODE_EXTRA_CA_CERTS/],
  ])('%s', (text, expected) => {
    expect(explainRedisError(text)).toMatch(expected);
  });

  it('leaves a text it has nothing to add to as it is', () => {
    expect(explainRedisError('Command timed out')).toBe('Command timed out');
  });
});
