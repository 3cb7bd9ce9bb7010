// The state of POS connections: one `Connection` per WebSocket, and the
// `ConnectionTable` that knows them all and counts requests in flight, which
// is what a graceful shutdown waits for.
//
// Invariants:
// - `Connection.socket` is the uWS WebSocket from open to close and null
//   otherwise. uWS throws on any use of a closed WebSocket, so every use goes
//   through `socket` and checks it; the close handler clears it first thing.
// - `Connection.inFlight` holds the request ids handed to the service whose
//   answer has not been produced yet; its size never exceeds the configured
//   inFlightPerConnectionMax. A request leaves it when its promise settles,
//   whether or not the socket is still open.
// - `ConnectionTable.inFlightTotal` is the sum of all inFlight sizes,
//   including those of connections closed since (their answers are dropped,
//   but a shutdown still waits for the work, e.g. a commit, to finish).
import type { WebSocket } from "uWebSockets.js";
import { assert } from "../assert.js";
import type { Operation } from "../../protocol/codec.js";
import type { TerminalSession } from "./pos-service.js";

/** What uWS keeps for each socket. uWS copies this object's properties, so the state lives in `connection`. */
export interface SocketData {
  readonly connection: Connection;
}

/** The outcome of an asynchronous execute(), waiting to be sent with the connection's other answers (pos-endpoint.ts). */
export interface SettledRequest {
  readonly requestId: number;
  readonly operation: Operation;
  readonly receivedAtMs: number;
  readonly result: unknown;
  /** undefined: `result` is the answer; anything else: execute() rejected with it. */
  readonly error: unknown;
}

export class Connection {
  socket: WebSocket<SocketData> | null = null;
  /** Settled requests not yet answered; sent together under one cork, then emptied. */
  settled: SettledRequest[] = [];
  /** Set by a successful hello; never changes afterwards. */
  session: TerminalSession | null = null;
  helloFailures = 0;
  malformedFrames = 0;
  readonly inFlight = new Set<number>();

  constructor(
    /** Sequential per process, for correlating log lines of one connection. */
    readonly id: number,
    readonly remoteAddress: string,
  ) {}
}

export class ConnectionTable {
  private readonly open = new Set<Connection>();
  private nextId = 1;
  private inFlightCount = 0;
  private idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.open.size;
  }

  get inFlightTotal(): number {
    return this.inFlightCount;
  }

  create(remoteAddress: string): Connection {
    return new Connection(this.nextId++, remoteAddress);
  }

  opened(connection: Connection, socket: WebSocket<SocketData>): void {
    assert(connection.socket === null && !this.open.has(connection), "a connection opens once");
    connection.socket = socket;
    this.open.add(connection);
  }

  closed(connection: Connection): void {
    connection.socket = null;
    this.open.delete(connection);
  }

  startRequest(connection: Connection, requestId: number): void {
    assert(!connection.inFlight.has(requestId), "request ids in flight are unique per connection");
    connection.inFlight.add(requestId);
    this.inFlightCount += 1;
  }

  finishRequest(connection: Connection, requestId: number): void {
    const removed = connection.inFlight.delete(requestId);
    assert(removed, "only a request in flight finishes");
    this.inFlightCount -= 1;
    assert(this.inFlightCount >= 0, "in-flight count never negative");
    if (this.inFlightCount === 0 && this.idleWaiters.length > 0) this.releaseIdleWaiters();
  }

  /** Resolves once no request is in flight (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.inFlightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves every whenIdle() promise now (shutdown gave up waiting). */
  releaseIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A copy, so callers may close connections (which removes them) while iterating. */
  snapshot(): Connection[] {
    return [...this.open];
  }
}
