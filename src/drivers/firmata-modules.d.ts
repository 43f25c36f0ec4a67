// Minimal ambient types for the two untyped packages the Firmata driver uses.
// (@types/johnny-five exists but types far more than the one class we use,
// and nothing exists for firmata-io; the driver narrows both itself.)
declare module 'johnny-five' {
  const five: { Board: new (opts: Record<string, unknown>) => unknown; [k: string]: unknown };
  export default five;
}
declare module 'firmata-io' {
  const firmataIo: unknown;
  export default firmataIo;
}
