// The consumer's service leases: each lease's deposit against what one more period of its
// replicas costs (a warning when it runs low or the lease paused) with a top-up; its replicas
// (provider, rate, start, paid through, end) with where each answers and whether it does now
// from this page, and, in the node's own words, its last run of the spec's health check and the
// acknowledged time it has not claimed yet; and, per replica, its log lines and a shell, both
// signed with the wallet.
import { useEffect, useState } from "preact/hooks";
import { PublicKey } from "@solana/web3.js";
import { accountFieldOffset, fetchAllOf, fetchReplicaReport, openShell, providerEndpoint, rules, streamLogs, type BidAccount, type ComputeMarketClient, type JobAccount, type ReplicaReport, type ServiceAccount } from "@compute-market/sdk";
import type { SigningWallet } from "../wallet/connect";

const JOB_CONSUMER_OFFSET = accountFieldOffset("Job", "consumer");
/** A deposit under this many periods' cost is flagged low. */
const LOW_BALANCE_PERIODS = 3n;

interface Replica {
  bid: BidAccount;
  endpoint: string;
  urls: string[];
  answers: boolean;
  /** What its node reports (health check, acknowledgements held); null when the node did not answer. */
  report: ReplicaReport | null;
}

interface Lease {
  address: PublicKey;
  job: JobAccount;
  terms: ServiceAccount;
  balance: bigint;
  replicas: Replica[];
}

/** The node's report on the replica, and whether its first URL answers this page now. */
async function locate(endpoint: string, job: PublicKey): Promise<{ urls: string[]; answers: boolean; report: ReplicaReport | null }> {
  try {
    const report = await fetchReplicaReport(endpoint, job, { signal: AbortSignal.timeout(2_000) });
    const urls = report?.urls ?? [];
    // A page sees no status across origins (no-cors): only that something answered.
    const answers = urls.length > 0 && (await fetch(urls[0], { mode: "no-cors", signal: AbortSignal.timeout(2_000) }).then(() => true, () => false));
    return { urls, answers, report };
  } catch {
    return { urls: [], answers: false, report: null };
  }
}

/** The node's last health check, in words. */
function healthText(report: ReplicaReport | null): string {
  if (!report) return "node did not answer";
  if (!report.health) return "not checked yet";
  return `${report.health.healthy ? "healthy" : "failing"} at ${new Date(report.health.checkedAt).toLocaleTimeString()}`;
}

/** The latest acknowledgement the node holds, and the slots of it the chain has not paid yet. */
function acknowledgedText(report: ReplicaReport | null, bid: BidAccount): string {
  if (!report?.acknowledgedUpToSlot) return "–";
  const acknowledged = BigInt(report.acknowledgedUpToSlot);
  const paid = rules.paidThrough(bid);
  return `${acknowledged} (${acknowledged > paid ? acknowledged - paid : 0n})`;
}

async function loadLeases(client: ComputeMarketClient, consumer: PublicKey): Promise<Lease[]> {
  const jobs = (await fetchAllOf(client.program, "job", [{ offset: JOB_CONSUMER_OFFSET, address: consumer }])).filter(({ account }) => rules.isService(account));
  return Promise.all(
    jobs.map(async ({ address, account }) => {
      const terms = await client.fetchService(client.serviceAddress(address));
      const balance = BigInt((await client.provider.connection.getTokenAccountBalance(account.escrow)).value.amount);
      const bids = (await client.bidsOf(address)).filter(({ account: bid }) => rules.statusOf(bid) === "started" || rules.statusOf(bid) === "won");
      const replicas = await Promise.all(
        bids.map(async ({ account: bid }) => {
          const provider = await client.fetchProvider(bid.provider);
          const endpoint = provider ? providerEndpoint(provider) : "";
          return { bid, endpoint, ...(endpoint ? await locate(endpoint, address) : { urls: [], answers: false, report: null }) };
        }),
      );
      return { address, job: account, terms: terms!, balance, replicas };
    }),
  );
}

export function ServicesPage({ client, wallet }: { client: ComputeMarketClient; wallet: SigningWallet | null }) {
  const [leases, setLeases] = useState<Lease[] | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [logs, setLogs] = useState<Record<string, string[]>>({});
  const [shellOutput, setShellOutput] = useState<Record<string, string>>({});

  useEffect(() => {
    if (!wallet) return;
    let live = true;
    const load = () => loadLeases(client, wallet.publicKey).then((loaded) => live && setLeases(loaded.filter((lease) => lease.terms)), (error: unknown) => live && setMessage({ error: true, text: String(error) }));
    void load();
    const timer = setInterval(load, 2_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, wallet]);

  if (!wallet) return <p data-testid="services-no-wallet">connect a wallet to see its leases</p>;
  if (!leases) return <p>reading the wallet's leases…</p>;
  if (leases.length === 0) return <p data-testid="no-leases">this wallet leases no service</p>;
  const signMessage = wallet.signMessage;
  const key = (lease: PublicKey, provider: PublicKey) => `${lease.toBase58()}:${provider.toBase58()}`;

  const topUp = async (lease: PublicKey, amount: bigint) => {
    try {
      await client.fundService({ job: lease, amount });
      setMessage({ error: false, text: `topped up by ${amount}` });
    } catch (error) {
      setMessage({ error: true, text: `top-up refused: ${error instanceof Error ? error.message : String(error)}` });
    }
  };

  const follow = async (lease: PublicKey, replica: Replica) => {
    if (!signMessage) return setMessage({ error: true, text: "the wallet cannot sign messages, which the node asks for" });
    const id = key(lease, replica.bid.provider);
    setLogs((all) => ({ ...all, [id]: [] }));
    try {
      for await (const line of streamLogs({ endpoint: replica.endpoint, job: lease, publicKey: wallet.publicKey, signMessage })) {
        setLogs((all) => ({ ...all, [id]: [...(all[id] ?? []), "event" in line ? `(${line.status})` : `${line.stream}: ${line.line}`] }));
      }
    } catch (error) {
      setLogs((all) => ({ ...all, [id]: [...(all[id] ?? []), `(log stream: ${error instanceof Error ? error.message : String(error)})`] }));
    }
  };

  const run = async (lease: PublicKey, replica: Replica, command: string) => {
    if (!signMessage) return setMessage({ error: true, text: "the wallet cannot sign messages, which the node asks for" });
    const id = key(lease, replica.bid.provider);
    setShellOutput((all) => ({ ...all, [id]: "" }));
    try {
      const shell = await openShell({ endpoint: replica.endpoint, job: lease, publicKey: wallet.publicKey, signMessage });
      shell.write(`${command}\n`);
      shell.end();
      for await (const part of shell.messages) {
        const text = "event" in part ? `\n(exit ${part.code})` : part.data;
        setShellOutput((all) => ({ ...all, [id]: (all[id] ?? "") + text }));
      }
    } catch (error) {
      setShellOutput((all) => ({ ...all, [id]: `${all[id] ?? ""}\n(shell: ${error instanceof Error ? error.message : String(error)})` }));
    }
  };

  return (
    <section>
      <h2>Your service leases</h2>
      {message && (
        <p class={message.error ? "error" : ""} data-testid="services-message">
          {message.text}
        </p>
      )}
      {leases.map(({ address, job, terms, balance, replicas }) => {
        const perPeriod = rules.servicePeriodCost(job, terms);
        const paused = rules.isPaused(terms);
        const low = balance < perPeriod * LOW_BALANCE_PERIODS;
        return (
          <article class="market" data-testid="lease" data-address={address.toBase58()}>
            <h3>
              lease {address.toBase58().slice(0, 8)}… · {job.replication} replicas · {rules.stateOf(job)}
              {paused ? " · paused" : ""}
            </h3>
            <dl>
              <dt>deposit</dt>
              <dd data-testid="balance">{balance.toString()}</dd>
              <dt>one more period of every replica costs</dt>
              <dd>{perPeriod.toString()}</dd>
              <dt>acknowledgement period / grace (slots)</dt>
              <dd>
                {terms.ackPeriodSlots.toString()} / {terms.graceSlots.toString()}
              </dd>
              <dt>paid to replicas so far</dt>
              <dd>{terms.paid.toString()}</dd>
            </dl>
            {(low || paused) && (
              <p class="error" data-testid="low-balance">
                {paused ? "the lease is paused: a top-up that pays a period resumes it" : `the deposit pays fewer than ${LOW_BALANCE_PERIODS} periods: top it up`}
              </p>
            )}
            <form
              data-testid="top-up"
              onSubmit={(event) => {
                event.preventDefault();
                void topUp(address, BigInt((event.currentTarget.elements.namedItem("amount") as HTMLInputElement).value || "0"));
              }}
            >
              <label>
                top up by <input name="amount" defaultValue="0" />
              </label>
              <button type="submit" data-testid="top-up-submit">
                top up
              </button>
            </form>
            <table data-testid="replicas">
              <thead>
                <tr>
                  <th>provider</th>
                  <th>rate</th>
                  <th>started</th>
                  <th>paid through</th>
                  <th>ended</th>
                  <th>URL</th>
                  <th>answers here</th>
                  <th>node's health check</th>
                  <th>acknowledged to (unpaid slots)</th>
                </tr>
              </thead>
              <tbody>
                {replicas.map((replica) => (
                  <tr data-testid="replica" data-provider={replica.bid.provider.toBase58()}>
                    <td>{replica.bid.provider.toBase58().slice(0, 6)}…</td>
                    <td>{replica.bid.awardedPrice.toString()}</td>
                    <td>{replica.bid.startedSlot.toString()}</td>
                    <td>{rules.paidThrough(replica.bid).toString()}</td>
                    <td>{replica.bid.endedSlot === 0n ? "–" : replica.bid.endedSlot.toString()}</td>
                    <td data-testid="replica-url">{replica.urls[0] ?? "–"}</td>
                    <td data-testid="replica-answers">{replica.answers ? "yes" : "no"}</td>
                    <td data-testid="replica-health">{healthText(replica.report)}</td>
                    <td data-testid="replica-acknowledged">{acknowledgedText(replica.report, replica.bid)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {replicas.map((replica) => {
              const id = key(address, replica.bid.provider);
              return (
                <div class="replica-tools" data-testid="replica-tools" data-provider={replica.bid.provider.toBase58()}>
                  <button type="button" data-testid="follow-logs" onClick={() => void follow(address, replica)}>
                    follow {replica.bid.provider.toBase58().slice(0, 6)}…'s log
                  </button>
                  <pre data-testid="replica-log">{(logs[id] ?? []).join("\n")}</pre>
                  <form
                    data-testid="shell"
                    onSubmit={(event) => {
                      event.preventDefault();
                      void run(address, replica, (event.currentTarget.elements.namedItem("command") as HTMLInputElement).value);
                    }}
                  >
                    <label>
                      shell <input name="command" defaultValue="" />
                    </label>
                    <button type="submit" data-testid="shell-run">
                      run
                    </button>
                  </form>
                  <pre data-testid="shell-output">{shellOutput[id] ?? ""}</pre>
                </div>
              );
            })}
          </article>
        );
      })}
    </section>
  );
}
