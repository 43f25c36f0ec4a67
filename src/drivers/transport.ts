/**
 * A byte pipe between host and board. The serial driver and the simulated
 * board sit on either end of one; they never know what carries the bytes.
 */
export interface Transport {
  write(bytes: Uint8Array): void;
  /** Register the byte sink (one per transport). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Called when the far end goes away (port closed, cable pulled). */
  onClose(cb: (reason: string) => void): void;
  close(): Promise<void>;
}
