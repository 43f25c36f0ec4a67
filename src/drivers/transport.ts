/**
 * A byte pipe between host and board. The serial driver and the simulated
 * board sit on either end of one; they never know what carries the bytes.
 */
export interface Transport {
  /**
   * Write one whole frame. `repeatable`: a real line's lease keeper may write
   * it again while the host's event loop stalls (see keepalive.ts); a HELLO is not.
   */
  write(bytes: Uint8Array, opts?: { repeatable?: boolean }): void;
  /** Register the byte sink (one per transport). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Called when the far end goes away (port closed, cable pulled). */
  onClose(cb: (reason: string) => void): void;
  close(): Promise<void>;
  /** A real line's figures about its host: the worst event-loop stall seen, frames its lease keeper repeated. */
  hostStats?(): HostLineStats;
  /**
   * The host sends nothing more on this line (it gave the link up, or is closing it): a real
   * line's lease keeper repeats nothing more, so the board's lease runs out as it must.
   */
  silence?(): void;
}

export interface HostLineStats {
  /** The longest the host's event loop was blocked while the line was open (ms). */
  hostStallMaxMs: number;
  /** Frames the lease keeper wrote again while the host was stalled. */
  keepaliveRepeats: number;
}
