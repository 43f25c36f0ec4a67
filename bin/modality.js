#!/usr/bin/env node
// modality CLI shim: load TypeScript sources through tsx's ESM loader, then run main().
try {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`modality: cannot start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exitCode = 1;
}
