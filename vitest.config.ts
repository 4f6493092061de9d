import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property tests print their seed; a failing run can be replayed with it.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
