// Runs a node script and reports its peak RSS (KiB) on stderr when it exits.
process.on('exit', () => process.stderr.write(`maxRSS=${process.resourceUsage().maxRSS}\n`));
const [script, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], script, ...args];
await import(script);
