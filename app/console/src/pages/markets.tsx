// Markets: each market's class and parameters, its EWMA clearing price, its providers (stake,
// reputation, hardware) and its jobs with their state and bids.
import { labelText, rules, variantOf } from "@compute-market/sdk";
import type { MarketView } from "../chain";
import { PriceChart } from "../chart";

const short = (address: { toBase58(): string }) => `${address.toBase58().slice(0, 6)}…`;

export function MarketsPage({ markets, error }: { markets: MarketView[] | null; error: string | null }) {
  if (error) return <p class="error" data-testid="markets-error">could not read the markets: {error}</p>;
  if (!markets) return <p>reading the markets…</p>;
  if (markets.length === 0) return <p data-testid="no-markets">no market on this cluster yet</p>;
  return (
    <section>
      <h2>Markets</h2>
      {markets.map((market) => (
        <MarketCard market={market} />
      ))}
    </section>
  );
}

function MarketCard({ market }: { market: MarketView }) {
  const { account } = market;
  const cls = account.class;
  const params = account.params;
  return (
    <article class="market" data-testid="market" data-address={market.address.toBase58()}>
      <h3>
        market {short(market.address)} · {cls.minGpuCount > 0 ? `${cls.minGpuCount}× GPU ${labelText(cls.gpuModel) || "any model"}, ${cls.minVramMb} MiB` : "CPU"} · {cls.minCpuCores} cores, {cls.minMemoryMb} MiB
      </h3>
      <dl>
        <dt>clearing price (EWMA)</dt>
        <dd data-testid="ewma">{account.ewmaPrice.toString()}</dd>
        <dt>minimum stake</dt>
        <dd>{params.minStake.toString()}</dd>
        <dt>stake locked per job</dt>
        <dd>{params.jobStakeLock.toString()}</dd>
        <dt>bid / reveal / start / challenge windows (slots)</dt>
        <dd>
          {params.bidWindowSlots.toString()} / {params.revealWindowSlots.toString()} / {params.startWindowSlots.toString()} / {params.challengeWindowSlots.toString()}
        </dd>
        <dt>jobs posted</dt>
        <dd>{account.jobCount.toString()}</dd>
      </dl>
      <h4>Clearing price over time</h4>
      <PriceChart points={market.prices} />
      <h4>Providers ({market.providers.length})</h4>
      <table data-testid="providers">
        <thead>
          <tr>
            <th>provider</th>
            <th>staked</th>
            <th>locked</th>
            <th>completed / failed / slashed</th>
            <th>hardware</th>
          </tr>
        </thead>
        <tbody>
          {market.providers.map(({ address, account: provider }) => (
            <tr data-testid="provider" data-address={address.toBase58()}>
              <td>{short(address)}</td>
              <td>{provider.staked.toString()}</td>
              <td>{provider.locked.toString()}</td>
              <td>
                {provider.reputation.completed} / {provider.reputation.failed} / {provider.reputation.slashed}
              </td>
              <td>
                {provider.spec.cpuCores} cores, {provider.spec.memoryMb} MiB{provider.spec.gpuCount > 0 ? `, ${provider.spec.gpuCount}× ${labelText(provider.spec.gpuModel)}` : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Jobs ({market.jobs.length})</h4>
      <table data-testid="jobs">
        <thead>
          <tr>
            <th>job</th>
            <th>kind</th>
            <th>state</th>
            <th>bids</th>
            <th>best price</th>
            <th>max price</th>
          </tr>
        </thead>
        <tbody>
          {market.jobs.map(({ address, account: job }) => (
            <tr data-testid="job" data-address={address.toBase58()}>
              <td>{short(address)}</td>
              <td>{variantOf(job.kind)}</td>
              <td>{rules.stateOf(job)}</td>
              <td>{job.auction.bidCount}</td>
              <td>{job.auction.rankedCount > 0 ? job.auction.ranking[0].price.toString() : "–"}</td>
              <td>{job.maxPrice.toString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
