// Vite's `?url` imports: the asset is emitted with the build and its URL returned.
declare module "*.wasm?url" {
  const url: string;
  export default url;
}
