// Time as the network layer sees it, passed in so tests can pin it.

export interface Clock {
  /** Unix epoch milliseconds (UTC): server_time_at_ms in answers. */
  nowMs(): number;
  /** Monotonic milliseconds with sub-millisecond fraction, for latencies; never goes back. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};
