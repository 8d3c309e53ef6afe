import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests open real sockets and start real servers; keep them from starving each other on 2 cores.
    maxWorkers: 2,
  },
})
