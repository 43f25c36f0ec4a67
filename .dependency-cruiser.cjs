/**
 * The layering of modality, checked by `npm run lint` (depcruise). Dependencies point inward:
 *
 *   util, clock, messages  ←  drivers/wire (the codec)  ←  protocol  ←  drivers  ←  modalities  ←  machines  ←  engine  ←  records  ←  cli, cart, doctor
 *
 * and sim/ (the simulated board) sits beside the drivers: src/ reaches it only through the board
 * registry (src/drivers/registry.ts), by a dynamic import(), so the WebAssembly board loads only when
 * it is chosen. See README.md ("Layout") and docs/extending.md.
 */
const IO_LIBRARIES =
  '^(node:)?(fs|net|child_process|dgram|http|https|tty)(/|$)|node_modules/(serialport|@serialport|johnny-five|firmata-io|better-sqlite3|fastify|@fastify|node-pty|ws)/';
const ABOVE_DRIVERS = '^src/(modalities|machines|engine|records|cli|cart|doctor)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles, type-only imports included.', from: {}, to: { circular: true } },
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    {
      name: 'nothing-imports-tests',
      severity: 'error',
      comment: 'Production code, the simulator, benchmarks and scripts never import the tests.',
      from: { pathNot: '^tests/' },
      to: { path: '^tests/' },
    },
    {
      name: 'base-is-pure',
      severity: 'error',
      comment: 'src/util, src/clock.ts and src/messages import nothing of modality above them.',
      from: { path: '^src/(util/|clock\\.ts|messages/)' },
      to: { path: '^(src|sim)/', pathNot: '^src/(util/|clock\\.ts|messages/)' },
    },
    {
      name: 'wire-codec-is-pure',
      severity: 'error',
      comment: 'The wire codec (src/drivers/wire) is the innermost layer: it imports only itself and src/util.',
      from: { path: '^src/drivers/wire/' },
      to: { path: '^(src|sim)/', pathNot: '^src/(drivers/wire|util)/' },
    },
    {
      name: 'protocol-below-drivers',
      severity: 'error',
      comment: 'src/protocol is pure: it may use the wire codec (units, limits) but no driver, machine, engine, records, CLI or cart.',
      from: { path: '^src/protocol/' },
      to: { path: [ABOVE_DRIVERS, '^src/drivers/(?!wire/)', '^sim/'] },
    },
    {
      name: 'drivers-below-machines',
      severity: 'error',
      comment: 'Drivers know nothing of the machines, the engine, the records, the CLI or the cart.',
      from: { path: '^src/drivers/' },
      to: { path: ABOVE_DRIVERS },
    },
    {
      name: 'drivers-no-xstate',
      severity: 'error',
      comment: 'Drivers never import xstate: commands are plain calls, events plain callbacks.',
      from: { path: '^src/drivers/' },
      to: { path: 'node_modules/xstate/' },
    },
    {
      name: 'modalities-are-pure-descriptors',
      severity: 'error',
      comment:
        'A modality descriptor (src/modalities/) is data and pure functions: the protocol, the Board interface and util only; no machine, no xstate, no I/O.',
      from: { path: '^src/modalities/' },
      to: { path: ['^src/(machines|engine|records|cli|cart|doctor)/', '^src/drivers/(?!board\\.ts$)', '^sim/', 'node_modules/xstate/', IO_LIBRARIES] },
    },
    {
      name: 'descriptors-fit-the-browser',
      severity: 'error',
      comment:
        "The cart's browser bundle imports the descriptors (src/modalities/): they import zod, Node, or a protocol module that pulls them in (the protocol's index, its schema, its program kinds, the plan, loading, the profile, validation) only as types.",
      from: { path: '^src/modalities/' },
      to: {
        path: ['node_modules/zod/', '^src/protocol/(index|schema|plan|load|profile|validate|issues)\\.ts$', '^src/protocol/programs/'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'descriptors-use-no-node-builtins',
      severity: 'error',
      comment: "The cart's browser bundle imports the descriptors: no Node built-in.",
      from: { path: '^src/modalities/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'machines-see-only-the-board-interface',
      severity: 'error',
      comment: 'Machines see the Board interface (src/drivers/board.ts) and nothing else of the drivers: no codec, no serial driver.',
      from: { path: '^src/machines/' },
      to: { path: '^src/drivers/(?!board\\.ts$)' },
    },
    {
      name: 'machines-below-engine',
      severity: 'error',
      from: { path: '^src/machines/' },
      to: { path: ['^src/(engine|records|cli|cart|doctor)/', '^sim/'] },
    },
    {
      name: 'machines-no-io',
      severity: 'error',
      comment: 'Machines do no I/O: no serialport, johnny-five, firmata-io, better-sqlite3, node:fs or node:net.',
      from: { path: '^src/machines/' },
      to: { path: IO_LIBRARIES },
    },
    {
      name: 'engine-below-records-and-cli',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: ['^src/(records|cli|cart|doctor)/', '^sim/'] },
    },
    {
      name: 'engine-no-io',
      severity: 'error',
      comment: 'The engine runs on any board and any clock; it opens nothing itself.',
      from: { path: '^src/engine/' },
      to: { path: IO_LIBRARIES },
    },
    {
      name: 'records-below-cli',
      severity: 'error',
      comment: 'Records are used by the CLI and the cart, never the other way round.',
      from: { path: '^src/records/' },
      to: { path: ['^src/(cli|cart|doctor|machines)/', '^sim/'] },
    },
    {
      name: 'cart-not-cli',
      severity: 'error',
      comment: 'The cart is a peer of the CLI: the CLI starts it, it does not reach into the CLI.',
      from: { path: '^src/(cart|doctor)/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-reaches-sim-only-through-the-registry',
      severity: 'error',
      comment: 'No file in src/ imports sim/ except the board registry, and that only by a dynamic import().',
      from: { path: '^src/', pathNot: '^src/drivers/registry\\.ts$' },
      to: { path: '^sim/' },
    },
    {
      name: 'registry-loads-boards-lazily',
      severity: 'error',
      comment: 'The registry loads each board (serialport, johnny-five, the WebAssembly sim) only when it is chosen.',
      from: { path: '^src/drivers/registry\\.ts$' },
      to: { path: ['^sim/', '^src/drivers/(serial-transport|firmata-board|firmata-link)\\.ts$'], dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'sim-not-above-engine',
      severity: 'error',
      comment: 'The simulated board is a board: it may run the engine (simulateSession) but never needs the records, the CLI or the cart.',
      from: { path: '^sim/' },
      to: { path: '^src/(records|cli|cart|doctor)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|firmware-host/build)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
