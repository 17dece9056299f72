// The console's frame: the cluster it talks to and its slot, the wallet, and the pages.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Wallet } from "@wallet-standard/base";
import { clientFor, loadMarkets, type MarketView } from "./chain";
import { ConsumerPage } from "./pages/consumer";
import { MarketsPage } from "./pages/markets";
import { KeeperPage } from "./pages/keeper";
import { ProviderPage } from "./pages/provider";
import { ServicesPage } from "./pages/services";
import type { Settings } from "./settings";
import { connect, onWalletsChanged, solanaWallets, type SigningWallet } from "./wallet/connect";

export function App({ settings }: { settings: Settings }) {
  const [wallets, setWallets] = useState<Wallet[]>(solanaWallets());
  const [signer, setSigner] = useState<SigningWallet | null>(null);
  const [walletError, setWalletError] = useState<string | null>(null);
  const [slot, setSlot] = useState<number | null>(null);
  const client = useMemo(() => clientFor(settings, signer), [settings, signer]);
  const [page, setPage] = useState<"markets" | "consumer" | "services" | "provider" | "keeper">("markets");
  const [markets, setMarkets] = useState<MarketView[] | null>(null);
  const [marketsError, setMarketsError] = useState<string | null>(null);

  useEffect(() => onWalletsChanged(() => setWallets(solanaWallets())), []);
  useEffect(() => {
    let live = true;
    const tick = () => client.provider.connection.getSlot("confirmed").then((s) => live && setSlot(s), () => live && setSlot(null));
    void tick();
    const timer = setInterval(tick, 2_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client]);

  useEffect(() => {
    let live = true;
    const load = () =>
      loadMarkets(client).then(
        (loaded) => live && (setMarkets(loaded), setMarketsError(null)),
        (failure: unknown) => live && setMarketsError(failure instanceof Error ? failure.message : String(failure)),
      );
    void load();
    const timer = setInterval(load, 3_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client]);

  const choose = async (wallet: Wallet) => {
    try {
      setWalletError(null);
      setSigner(await connect(wallet));
    } catch (error) {
      setWalletError(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div class="console">
      <header>
        <h1>compute-market</h1>
        <span class="cluster" data-testid="cluster">
          {settings.rpcUrl} · {slot === null ? "unreachable" : `slot ${slot}`}
        </span>
        <span class="wallet">
          {signer ? (
            <span data-testid="wallet-address">{signer.publicKey.toBase58()}</span>
          ) : wallets.length === 0 ? (
            <span>no wallet found (install one that supports the Wallet Standard)</span>
          ) : (
            wallets.map((wallet) => (
              <button type="button" onClick={() => void choose(wallet)} data-testid={`connect-${wallet.name}`}>
                connect {wallet.name}
              </button>
            ))
          )}
          {walletError && <span class="error">{walletError}</span>}
        </span>
      </header>
      <nav>
        <button type="button" class={page === "markets" ? "active" : ""} data-testid="nav-markets" onClick={() => setPage("markets")}>
          Markets
        </button>
        <button type="button" class={page === "consumer" ? "active" : ""} data-testid="nav-consumer" onClick={() => setPage("consumer")}>
          Consumer
        </button>
        <button type="button" class={page === "services" ? "active" : ""} data-testid="nav-services" onClick={() => setPage("services")}>
          Services
        </button>
        <button type="button" class={page === "provider" ? "active" : ""} data-testid="nav-provider" onClick={() => setPage("provider")}>
          Provider
        </button>
        <button type="button" class={page === "keeper" ? "active" : ""} data-testid="nav-keeper" onClick={() => setPage("keeper")}>
          Keeper
        </button>
      </nav>
      <main>
        {page === "markets" && <MarketsPage markets={markets} error={marketsError} />}
        {page === "consumer" && <ConsumerPage client={client} wallet={signer} markets={markets ?? []} />}
        {page === "services" && <ServicesPage client={client} wallet={signer} />}
        {page === "provider" && <ProviderPage client={client} wallet={signer} slot={slot} />}
        {page === "keeper" && <KeeperPage client={client} wallet={signer} />}
      </main>
    </div>
  );
}
