// Every limit and tuning default of the daemon, in one place, each with the
// reason for its value. Protocol-level limits a client must also respect live
// in protocol/limits.ts; this file holds what the daemon enforces on its own
// resources. Values that operators may change are defaults for
// daemon/config.ts, which validates overrides against the bounds below.
//
// Naming: unit and qualifier last (`idleTimeoutMs`, `backpressureBytesMax`).
import { frameBytesMax as protocolFrameBytesMax } from "../protocol/limits.js";
import { assert } from "./assert.js";

// ---------------------------------------------------------------------------
// Per connection (POS WebSocket)
// ---------------------------------------------------------------------------

/**
 * Requests one connection may have in flight (received, not yet answered).
 * A till has one or two; a store gateway multiplexing its tills over one
 * connection may pipeline a few hundred. The bound caps what one connection
 * can pin in memory (in-flight requests × frame size) and its share of the
 * group-commit queue, so one misbehaving client cannot starve the others.
 */
export const inFlightPerConnectionMax = 256;

/**
 * A connection with no traffic (frames or pings) for this long is closed. uWS
 * sends pings automatically before it fires, so a live but quiet till (its
 * WebSocket stack answers pings) stays connected, and a dead one (power cut,
 * NAT entry dropped) is detected within this window instead of holding a slot
 * for hours. uWS counts in whole seconds with ~4 s granularity and refuses
 * values between 1 and 7 s, hence the bounds.
 */
export const idleTimeoutMs = 120_000;
export const idleTimeoutMsMin = 8_000;
export const idleTimeoutMsMax = 900_000;

/**
 * The largest frame accepted, announced to clients as Limits.frame_bytes_max.
 * Defaults to the protocol's limit (see protocol/limits.ts for the sizing).
 */
export const frameBytesMax = protocolFrameBytesMax;
/** Below this a legitimate 500-line basket no longer fits. */
export const frameBytesMaxMin = 64 * 1024;
/** Above this a single frame pins too much memory per connection. */
export const frameBytesMaxMax = 16 * 1024 * 1024;

/**
 * uWS's own payload limit is this multiple of frameBytesMax. uWS answers a
 * frame over its limit by dropping the TCP connection without a close frame
 * (the client sees 1006), so the daemon lets uWS accept up to twice the
 * announced limit and closes frames between the two itself with 1009
 * ("message too big"), which is what the protocol promises. Frames past the
 * hard limit are still refused by uWS before they are buffered in full.
 */
export const frameBytesHardFactor = 2;

/**
 * Answer bytes buffered for a slow reader before the connection is closed
 * (uWS maxBackpressure with closeOnBackpressureLimit). Answers are a few KiB;
 * 1 MiB holds hundreds of them, far more than a healthy reader falls behind.
 * A client that stops reading must not make the daemon buffer without bound.
 */
export const backpressureBytesMax = 1024 * 1024;

/**
 * Open POS connections. Thousands of terminals of a large chain, with room for
 * reconnect storms after a network blip (old sockets linger until the idle
 * timeout). Each connection costs a file descriptor and a few KiB; past this
 * the upgrade is refused with HTTP 503 so the daemon keeps serving the rest.
 */
export const connectionsMax = 20_000;

/**
 * Undecodable frames tolerated on one connection before it is closed (1008).
 * A few let a client with a bug see the MALFORMED answers in its logs; a
 * stream of them is garbage or an attack and is not worth decoding further.
 */
export const malformedFramesPerConnectionMax = 10;

/**
 * Failed hellos on one connection before it is closed (1008). A till that
 * mistyped its secret gets a couple of retries; guessing secrets costs a new
 * connection every few attempts.
 */
export const helloFailuresPerConnectionMax = 3;

/** Suggested wait after LIMIT_EXCEEDED (in-flight): about one group commit. */
export const inFlightRetryAfterMs = 10;

// ---------------------------------------------------------------------------
// Process
// ---------------------------------------------------------------------------

/**
 * How long a graceful shutdown waits for in-flight requests (mutating ones
 * wait for their group commit) before it closes the connections anyway.
 * Below Docker's default 10 s stop timeout, so the daemon finishes its own
 * shutdown before it is killed.
 */
export const shutdownGraceMs = 8_000;
export const shutdownGraceMsMax = 120_000;

/**
 * Suggested wait in UNAVAILABLE answers while shutting down: time for a
 * supervisor to restart the daemon or for a client to fail over.
 */
export const drainRetryAfterMs = 1_000;

/**
 * LMDB map size (the largest the database may grow; address space, not RAM).
 * 4 GiB holds tens of millions of cards with their history.
 */
export const mapSizeMb = 4096;
export const mapSizeMbMin = 64;
export const mapSizeMbMax = 1024 * 1024;

// How the limits relate. These hold for the defaults; config.ts checks the
// same relations for operator overrides.
assert(backpressureBytesMax >= 2 * frameBytesMax, "one answer as large as a frame must fit in the backpressure buffer twice");
assert(frameBytesMax >= frameBytesMaxMin && frameBytesMax <= frameBytesMaxMax, "frameBytesMax within its bounds");
assert(idleTimeoutMs % 1000 === 0 && idleTimeoutMs >= idleTimeoutMsMin && idleTimeoutMs <= idleTimeoutMsMax, "idleTimeoutMs in whole seconds within uWS bounds");
assert(shutdownGraceMs <= shutdownGraceMsMax, "shutdownGraceMs within its bound");
assert(helloFailuresPerConnectionMax >= 1 && malformedFramesPerConnectionMax >= 1, "at least one failure is answered before closing");

/** Report worker threads by default: one, so a heavy report uses one core and the POS event loop keeps the other. */
export const reportThreads = 1;
/** Upper bound of --report-threads: beyond a few threads reports only compete with each other for LMDB pages and cores. */
export const reportThreadsMax = 16;
/** Reports waiting for a worker thread; more are refused (piscina's queue is unbounded by default). */
export const reportQueueMax = 8;
/** Heap of one report worker thread, MiB: a year of a 100k-customer chain aggregates in well under this. */
export const reportWorkerHeapMb = 3072;
