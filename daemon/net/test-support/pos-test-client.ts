// A minimal POS client for network tests, on the `ws` package: sends encoded
// Requests (or raw frames), queues decoded Responses in arrival order, and
// reports how the connection closed. Every wait is on an event, never a timer.
import WebSocket from "ws";
import { decodeResponse, encodeRequest, loyalty, type Response } from "../../../protocol/codec.js";
import { protocolVersion } from "../../../protocol/limits.js";
import { terminal } from "./fake-pos-service.js";

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class PosTestClient {
  private readonly queue: Response[] = [];
  private waiters: { count: number; resolve: (responses: Response[]) => void }[] = [];
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<CloseInfo>;
  /** Text frames received (the server never sends any; kept to prove it). */
  readonly textFrames: string[] = [];

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") }));
    });
    // A connection reset is reported as an error before close; close follows.
    socket.on("error", () => {});
    socket.on("message", (data, isBinary) => {
      if (!isBinary) { this.textFrames.push(String(data)); return; }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      this.queue.push(decodeResponse(bytes));
      this.wake();
    });
  }

  static connect(url: string): Promise<PosTestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once("open", () => resolve(new PosTestClient(socket)));
      socket.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
      socket.once("error", reject);
    });
  }

  /** Connects and says hello as terminal t1; resolves with the HelloResult answer. */
  static async authenticated(url: string): Promise<PosTestClient> {
    const client = await PosTestClient.connect(url);
    const [answer] = await client.request({ requestId: 1, hello: helloRequest() });
    if (answer?.body !== "hello") throw new Error(`hello failed: ${JSON.stringify(answer?.error)}`);
    return client;
  }

  send(request: loyalty.v1.Request.$Properties): void {
    this.socket.send(encodeRequest(request), { binary: true });
  }

  sendRaw(data: Uint8Array | string, binary: boolean): void {
    this.socket.send(data, { binary });
  }

  /** Sends requests and resolves with the next `requests.length` answers. */
  request(...requests: loyalty.v1.Request.$Properties[]): Promise<Response[]> {
    for (const request of requests) this.send(request);
    return this.next(requests.length);
  }

  /** The next `count` answers (in arrival order), removed from the queue. */
  next(count = 1): Promise<Response[]> {
    if (this.queue.length >= count) return Promise.resolve(this.queue.splice(0, count));
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Closes from the client side and waits for the close to complete. */
  async close(): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000, "test done");
    return this.closed;
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0]!;
      if (this.queue.length < waiter.count) return;
      this.waiters.shift();
      waiter.resolve(this.queue.splice(0, waiter.count));
    }
  }
}

export function helloRequest(overrides: Partial<loyalty.v1.Hello.$Properties> = {}): loyalty.v1.Hello.$Properties {
  return { protocolVersion, terminalId: terminal.terminalId, secret: terminal.secret, clientName: "test-till", clientVersion: "1.0", ...overrides };
}

/** An identify request for `cardNumber` (see FakePosService for the card prefixes). */
export function identifyRequest(requestId: number, cardNumber: string, cashierId = "cashier-7"): loyalty.v1.Request.$Properties {
  return { requestId, cashierId, identify: { card: { cardNumber } } };
}
