import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // node-pty is not thread-safe: every test file runs in its own forked process.
    pool: 'forks',
    // Integration tests share the host's network stack, tracefs and nft; two workers fit the 2-core machines.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
