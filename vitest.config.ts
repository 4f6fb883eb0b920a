import { defineConfig } from 'vitest/config';

/**
 * Test tiers: unit (no socket, no process: enforced by test/support/no-io.ts), sim (the simulated
 * node on loopback), integration (pistom as a library or as the built CLI, with real clients),
 * chaos (faults and overload).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/support/no-io.ts'] },
      },
      {
        // The simulated Piston node on loopback (sockets, and the sim CLI as a process).
        extends: true,
        test: { name: 'sim', include: ['test/sim/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], fileParallelism: false },
      },
      {
        extends: true,
        test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], fileParallelism: false },
      },
    ],
  },
});
