// The console is a static page: built to dist/, served by anything, talking to any RPC URL. The
// SDK is bundled from source; its one browser polyfill, Buffer, is installed by src/polyfills.ts.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: "./",
  resolve: {
    alias: {
      "@compute-market/sdk": path.resolve(here, "../sdk/src/index.ts"),
      // The machine's browser entry: the WebAssembly comes from a URL, not from disk.
      "@compute-market/vm": path.resolve(here, "../vm/src/browser.ts"),
    },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2_000 },
  // Some dependencies read `global` (Node's name for globalThis).
  define: { global: "globalThis" },
});
