// A stand-in for the Docker daemon's socket that a test can cut and restore: it forwards every
// connection to the real socket, and "cutting" it closes the listener and every live connection,
// which is what a node sees when the daemon dies mid-run.
import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface DockerProxy {
  socketPath: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startDockerProxy(target = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock"): Promise<DockerProxy> {
  const socketPath = path.join(mkdtempSync(path.join(os.tmpdir(), "docker-proxy-")), "docker.sock");
  const live = new Set<net.Socket>();
  let server: net.Server | null = null;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target);
        live.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          live.delete(client);
          live.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
  const cut = async () => {
    const closing = server;
    server = null;
    for (const socket of live) socket.destroy();
    live.clear();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  return { socketPath, cut, restore: listen, close: cut };
}
