// A fake daemon for client tests: a real `ws` server on 127.0.0.1 that speaks
// the codec. It authenticates Hello against one terminal, records every frame
// it receives (raw bytes and decoded), and answers through a handler the test
// sets, which may also hold an answer for later or drop the connection.
// Tests synchronise on its promises (waitForFrames, waitForConnections),
// never on sleeps.
import { WebSocketServer, type WebSocket } from "ws";
import { ErrorCode, decodeRequest, encodeResponse, withRequestId, type loyalty } from "../codec.js";
import { protocolVersion } from "../limits.js";

export type ResponseBody = Omit<loyalty.v1.Response.$Properties, "requestId">;

/** What a handler does with a frame: answer it, keep it unanswered, or kill the connection. */
export type Reaction = ResponseBody | "hold" | "drop";

export interface ReceivedFrame {
  /** 1-based number of the connection it came on. */
  readonly connection: number;
  readonly raw: Uint8Array;
  readonly request: loyalty.v1.Request;
}

export interface FakeServerOptions {
  terminalId?: string;
  secret?: string;
  limits?: loyalty.v1.Limits.$Properties;
}

interface Waiter {
  ready(): boolean;
  resolve(): void;
}

export const fakeTerminal = { terminalId: "T-0001", secret: "s3cret-0001" } as const;

export class FakePosServer {
  readonly url: string;
  readonly frames: ReceivedFrame[] = [];
  /** Decides every authenticated non-hello frame; by default answers ping and holds the rest. */
  handler: (frame: ReceivedFrame) => Reaction = (frame) =>
    frame.request.ping ? { pong: { nonce: frame.request.ping.nonce ?? 0, serverTimeAtMs: 1 } } : "hold";
  /** Decides Hello; by default checks the terminal's credentials. */
  helloHandler: (frame: ReceivedFrame) => Reaction;
  limits: loyalty.v1.Limits.$Properties;

  private readonly sockets: WebSocket[] = [];
  private readonly waiters: Waiter[] = [];
  private closing: Promise<void> | undefined;

  private constructor(private readonly wss: WebSocketServer, options: FakeServerOptions) {
    const address = wss.address();
    if (typeof address === "string" || address === null) throw new Error("assertion failed: ws server has no TCP address");
    this.url = `ws://127.0.0.1:${address.port}/pos`;
    const terminalId = options.terminalId ?? fakeTerminal.terminalId;
    const secret = options.secret ?? fakeTerminal.secret;
    this.limits = options.limits ?? { frameBytesMax: 256 * 1024, inFlightMax: 1000, idleTimeoutMs: 0, linesMax: 500 };
    this.helloHandler = (frame) => {
      const hello = frame.request.hello!;
      if (hello.terminalId !== terminalId || hello.secret !== secret) {
        return { error: { code: ErrorCode.ERROR_CODE_UNAUTHENTICATED, message: "unknown terminal or wrong secret" } };
      }
      return {
        hello: {
          protocolVersion, serverVersion: "fake-1", merchantId: "M-1", storeId: "S-1", terminalId,
          serverTimeAtMs: 1_700_000_000_000, limits: this.limits,
        },
      };
    };
    wss.on("connection", (socket) => this.onConnection(socket));
  }

  static async start(options: FakeServerOptions = {}): Promise<FakePosServer> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/pos", perMessageDeflate: false, maxPayload: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    return new FakePosServer(wss, options);
  }

  get connectionCount(): number {
    return this.sockets.length;
  }

  /** Frames of one operation (e.g. "confirm"), optionally on one connection. */
  framesOf(body: string, connection?: number): ReceivedFrame[] {
    return this.frames.filter((f) => f.request.body === body && (connection === undefined || f.connection === connection));
  }

  /** Resolves once `count` frames of `body` (on `connection`, if given) have arrived. */
  waitForFrames(body: string, count: number, connection?: number): Promise<ReceivedFrame[]> {
    return this.until(() => this.framesOf(body, connection).length >= count).then(() => this.framesOf(body, connection));
  }

  waitForConnections(count: number): Promise<void> {
    return this.until(() => this.sockets.length >= count);
  }

  /** Answers a frame (held or not) on the connection it came from. */
  answer(frame: ReceivedFrame, body: ResponseBody): void {
    this.sendRaw(frame.connection, withRequestId(encodeResponse(body), frame.request.requestId));
  }

  sendRaw(connection: number, bytes: Uint8Array | string): void {
    const socket = this.sockets[connection - 1];
    if (socket === undefined) throw new Error(`no connection ${connection}`);
    if (socket.readyState === socket.OPEN) socket.send(bytes, { binary: typeof bytes !== "string" });
  }

  /** Kills every open connection without a close handshake, like a network failure. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  /** Stops listening and drops every connection; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve, reject) => {
      this.dropConnections();
      this.wss.close((error) => (error ? reject(error) : resolve()));
    });
    return this.closing;
  }

  private onConnection(socket: WebSocket): void {
    this.sockets.push(socket);
    const connection = this.sockets.length;
    let authenticated = false;
    socket.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) {
        socket.close(1003, "binary frames only");
        return;
      }
      const raw = new Uint8Array(data);
      const request = decodeRequest(raw);
      const frame: ReceivedFrame = { connection, raw, request };
      this.frames.push(frame);
      let reaction: Reaction;
      if (request.hello) {
        reaction = this.helloHandler(frame);
        if (typeof reaction === "object" && reaction.hello) authenticated = true;
      } else if (!authenticated) {
        reaction = { error: { code: ErrorCode.ERROR_CODE_UNAUTHENTICATED, message: "hello first" } };
      } else {
        reaction = this.handler(frame);
      }
      if (reaction === "drop") socket.terminate();
      else if (reaction !== "hold") this.answer(frame, reaction);
      this.notify();
    });
    this.notify();
  }

  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.ready()) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
