// The console's entry: the Buffer polyfill first, then the development wallet when the URL asks
// for it (tests, the demo), then the app.
import "./polyfills";
import { render } from "preact";
import { App } from "./app";
import { settingsFrom } from "./settings";
import { registerDevWalletFrom } from "./wallet/dev-wallet";

registerDevWalletFrom(window.location.hash);
render(<App settings={settingsFrom(window.location.search)} />, document.getElementById("app")!);
