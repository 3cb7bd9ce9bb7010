// A TCP proxy between POS clients and the daemon that can lose answers on the
// way back, for crash tests that need "the daemon committed and answered, but
// the terminal never got the answer" deterministically instead of by luck.
//
// Terminal → daemon bytes pass through untouched. Daemon → terminal bytes are
// split into the HTTP upgrade response and WebSocket frames; each complete,
// unfragmented binary frame's payload (one encoded Response) is offered to the
// connection's filter, which forwards or drops it. Control frames always pass.
// When either side closes, the other is destroyed, so a killed daemon looks to
// the terminal like a dropped connection and a refused upstream connect like a
// failed reconnect attempt.
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/** Decides for one daemon → terminal message whether the terminal gets it. */
export type AnswerFilter = (payload: Uint8Array) => "forward" | "drop";

export interface PosProxyOptions {
  /** The daemon's POS port on `host`. */
  readonly targetPort: number;
  readonly host?: string;
  /** Called once per terminal connection when it opens; its filter sees that connection's answers. */
  readonly filterFor: () => AnswerFilter;
}

export interface PosProxy {
  readonly port: number;
  /** The POS URL terminals connect to instead of the daemon's. */
  readonly url: string;
  /** Frames passed on without being offered to a filter (fragmented or compressed messages); tests expect 0. */
  uninspectedFrames(): number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

const headerEnd = Buffer.from("\r\n\r\n");
const opcodeBinary = 0x2;

export async function startPosProxy(options: PosProxyOptions): Promise<PosProxy> {
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  let uninspected = 0;

  const server = createServer((terminal) => {
    const daemon = connect(options.targetPort, host);
    sockets.add(terminal);
    sockets.add(daemon);
    const filter = options.filterFor();
    const closeBoth = (): void => {
      terminal.destroy();
      daemon.destroy();
      sockets.delete(terminal);
      sockets.delete(daemon);
    };
    // Errors are the peer going away (a killed daemon, a refused connect, a
    // client that terminated); the close that follows ends the pair.
    terminal.on("error", closeBoth).on("close", closeBoth);
    daemon.on("error", closeBoth).on("close", closeBoth);
    terminal.pipe(daemon);

    let pending: Buffer = Buffer.alloc(0);
    let upgraded = false;
    /** Set when the upgrade was refused (e.g. 503): what follows is HTTP, not frames. */
    let raw = false;
    daemon.on("data", (chunk: Buffer) => {
      if (raw) {
        terminal.write(chunk);
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (!upgraded) {
        const end = pending.indexOf(headerEnd);
        if (end < 0) return;
        raw = !pending.subarray(0, 12).toString("latin1").startsWith("HTTP/1.1 101");
        terminal.write(raw ? pending : pending.subarray(0, end + headerEnd.length));
        pending = raw ? Buffer.alloc(0) : pending.subarray(end + headerEnd.length);
        upgraded = true;
        if (raw) return;
      }
      // Server frames are never masked: header is 2, 4 or 10 bytes.
      while (pending.length >= 2) {
        const short = pending[1]! & 0x7f;
        const headerBytes = short === 126 ? 4 : short === 127 ? 10 : 2;
        if (pending.length < headerBytes) return;
        const payloadBytes = short === 126 ? pending.readUInt16BE(2) : short === 127 ? Number(pending.readBigUInt64BE(2)) : short;
        if (pending.length < headerBytes + payloadBytes) return;
        const frame = pending.subarray(0, headerBytes + payloadBytes);
        pending = pending.subarray(headerBytes + payloadBytes);
        const first = frame[0]!;
        const fin = (first & 0x80) !== 0;
        const rsv = first & 0x70;
        const opcode = first & 0x0f;
        if (opcode === opcodeBinary && fin && rsv === 0) {
          if (filter(frame.subarray(headerBytes)) === "forward") terminal.write(frame);
        } else {
          if (opcode < 0x8) uninspected += 1; // data frames only; control frames are expected
          terminal.write(frame);
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `ws://${host}:${port}/pos`,
    uninspectedFrames: () => uninspected,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      server.close(() => resolve());
    }),
  };
}
