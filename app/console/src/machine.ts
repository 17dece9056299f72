// The rv32im machine in the browser: its WebAssembly, emitted with the build, loaded once on
// first use. The page computes a verifiable job's roots with it and checks an output against the
// committed final state, trusting no provider.
import wasmUrl from "../../../target/wasm/vm_wasm.wasm?url";
import { VmModule } from "@compute-market/vm";

let loaded: Promise<VmModule> | null = null;

export function machine(): Promise<VmModule> {
  return (loaded ??= VmModule.fromUrl(wasmUrl));
}
