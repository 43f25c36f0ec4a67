import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Several tests spawn `modality` processes or boot the firmware in simavr in real time;
    // on a loaded 2-core machine the default 5 s is not a fair limit. Speed is measured in
    // `npm run bench`, not here.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
