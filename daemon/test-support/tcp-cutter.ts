// A TCP proxy that forwards bytes both ways and cuts every connection after
// it carried `cutAfterBytes` from the target (deterministic connection drops
// for replication tests), until `cuts` reaches `maxCuts`. The first
// `spare` connections are never cut (a replica's snapshot bootstrap).
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

export interface TcpCutter {
  readonly address: string;
  cuts(): number;
  close(): Promise<void>;
}

export async function startTcpCutter(options: { targetPort: number; cutAfterBytes: number; maxCuts: number; spare?: number }): Promise<TcpCutter> {
  const sockets = new Set<Socket>();
  let cuts = 0;
  let connections = 0;
  const server = createServer((client) => {
    connections += 1;
    const spared = connections <= (options.spare ?? 0);
    const upstream = connect(options.targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    let carried = 0;
    const cut = () => { client.destroy(); upstream.destroy(); };
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      client.write(d);
      carried += d.length;
      if (!spared && carried >= options.cutAfterBytes && cuts < options.maxCuts) {
        cuts += 1;
        cut();
      }
    });
    for (const s of [client, upstream]) {
      s.on("error", cut);
      s.on("close", () => { sockets.delete(s); cut(); });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts: () => cuts,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
