// `npm run console [-- --port 5173] [--rpc http://127.0.0.1:8899]`: builds the console and serves
// it; prints the URL to open (with the RPC URL it talks to).
import { Command } from "commander";
import { buildConsole, serveConsole } from "./serve";

async function main(): Promise<void> {
  const options = new Command()
    .name("console")
    .description("build the web console and serve it")
    .option("--port <port>", "port to serve on", "5173")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--rpc <url>", "the cluster the page talks to", "http://127.0.0.1:8899")
    .parse()
    .opts<{ port: string; host: string; rpc: string }>();
  buildConsole();
  const server = await serveConsole({ host: options.host, port: Number(options.port) });
  console.log(JSON.stringify({ event: "ready", url: `${server.url}/?rpc=${encodeURIComponent(options.rpc)}` }));
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`console: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
