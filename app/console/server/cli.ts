// `npm run console [-- --port 5173] [--rpc http://127.0.0.1:8899]`: builds the console and serves
// it; prints the URL to open (with the RPC URL it talks to).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { Command } from "commander";
import { serveConsole } from "./serve";

const ROOT = path.resolve(__dirname, "../../..");

async function main(): Promise<void> {
  const options = new Command()
    .name("console")
    .description("build the web console and serve it")
    .option("--port <port>", "port to serve on", "5173")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--rpc <url>", "the cluster the page talks to", "http://127.0.0.1:8899")
    .parse()
    .opts<{ port: string; host: string; rpc: string }>();
  execFileSync(process.execPath, [path.join(ROOT, "node_modules/vite/bin/vite.js"), "build", "app/console", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
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
