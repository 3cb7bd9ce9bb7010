// The two idle processes of the wake-up floor (wake-floor.ts).
//
//   node wake-floor-child.js serve              listens on 127.0.0.1, prints its port, echoes every byte
//   node wake-floor-child.js ping PORT EVERY_MS  sends one 8-byte ping every EVERY_MS and times its echo
//
// The pinger keeps one ping in flight and records, per ping, the round trip
// (send → echo received) in microseconds. When its stdin ends it prints one
// JSON line {"roundTripUs": LatencySummary, "missed": N} and exits; "missed"
// counts ticks skipped because the previous echo had not come back yet.
import { createConnection, createServer } from "node:net";
import { Samples } from "./measure.js";

const [mode, portArg, everyArg] = process.argv.slice(2);

if (mode === "serve") {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    process.stdout.write(`${address.port}\n`);
  });
  // The parent ends the server by closing its stdin.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
} else if (mode === "ping") {
  const everyMs = Number(everyArg);
  const samples = new Samples(1_000_000);
  let missed = 0;
  let sentAt = 0;
  let awaiting = 0;
  const ping = Buffer.alloc(8);
  const socket = createConnection({ port: Number(portArg), host: "127.0.0.1", noDelay: true });
  socket.on("data", (chunk) => {
    awaiting -= chunk.length;
    if (awaiting === 0) samples.record((performance.now() - sentAt) * 1000);
  });
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (awaiting > 0) missed += 1;
    else {
      awaiting = ping.length;
      sentAt = performance.now();
      socket.write(ping);
    }
    timer = setTimeout(tick, everyMs);
  };
  socket.on("connect", tick);
  process.stdin.on("end", () => {
    clearTimeout(timer);
    process.stdout.write(`${JSON.stringify({ roundTripUs: samples.summary(), missed })}\n`, () => process.exit(0));
  });
  process.stdin.resume();
} else {
  throw new Error("usage: wake-floor-child.js serve | ping PORT EVERY_MS");
}
