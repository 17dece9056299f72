// The one polyfill the SDK needs in a browser: Anchor's coder reads the global Buffer. Imported
// first by main.tsx, so it is in place before any SDK module runs.
import { Buffer } from "buffer";

(globalThis as { Buffer?: typeof Buffer }).Buffer ??= Buffer;
