// The consumer's page: post a container job (the spec form validates as the SDK does, the spec is
// published to the market's providers), follow each of the wallet's jobs live from the program's
// events against the slot clock, cancel one still open, and download a committed result with the
// browser checking every file against the output root on-chain.
import { useEffect, useState } from "preact/hooks";
import { PublicKey } from "@solana/web3.js";
import { fetchResults, fetchVerifiableOutput, inputEntry, providerEndpoint, publishMachineJob, publishSpec, rules, validateSpec, type ComputeMarketClient, type ContainerJobSpec, type JobAccount } from "@compute-market/sdk";
import { machine } from "../machine";
import { describe, followEvents, type TimelineEntry } from "../events";
import type { MarketView } from "../chain";
import type { SigningWallet } from "../wallet/connect";

interface Posted {
  address: string;
  title: string;
  verifiable: boolean;
}

type Verification = { state: "checking" } | { state: "verified"; files: [string, string][] } | { state: "failed"; error: string };

/** A file input's bytes (the first file chosen), or an error naming the field. */
async function fileBytes(input: HTMLInputElement, what: string): Promise<Uint8Array> {
  const file = input.files?.[0];
  if (!file) throw new Error(`choose the ${what} file`);
  return new Uint8Array(await file.arrayBuffer());
}

/** A `fetch` that reports, as each input reaches a provider, how many of `total` input bytes were sent. */
function countingInputs(total: number, inputs: Map<string, Uint8Array>, report: (progress: string) => void): typeof fetch {
  const blobs = new Set<unknown>(inputs.values());
  let sent = 0;
  return async (input, init) => {
    const response = await fetch(input, init);
    if (init?.method === "PUT" && blobs.has(init.body) && response.ok) {
      sent += (init.body as Uint8Array).length;
      report(sent < total ? `uploading inputs: ${sent} of ${total} bytes sent` : `inputs uploaded: ${total} bytes to the providers`);
    }
    return response;
  };
}

/** The form field naming the market a job is posted in. */
function MarketSelect({ markets }: { markets: MarketView[] }) {
  return (
    <label>
      market
      <select name="market">
        {markets.map((m) => (
          <option value={m.address.toBase58()}>{m.address.toBase58().slice(0, 8)}…</option>
        ))}
      </select>
    </label>
  );
}

/** Output bytes for people: text when it is printable, else hex. */
function preview(bytes: Uint8Array): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return /^[\x20-\x7e\n\t]*$/.test(text) ? text.slice(0, 400) : Array.from(bytes.slice(0, 64), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function ConsumerPage({ client, wallet, markets }: { client: ComputeMarketClient; wallet: SigningWallet | null; markets: MarketView[] }) {
  const [posted, setPosted] = useState<Posted[]>([]);
  const [timelines, setTimelines] = useState<Record<string, TimelineEntry[]>>({});
  const [jobs, setJobs] = useState<Record<string, JobAccount | null>>({});
  const [verifications, setVerifications] = useState<Record<string, Verification>>({});
  const [error, setError] = useState<string | null>(null);
  const [upload, setUpload] = useState<string | null>(null);

  useEffect(() => followEvents(client, (job, entry) => setTimelines((all) => ({ ...all, [job]: [...(all[job] ?? []), entry] }))), [client]);
  useEffect(() => {
    let live = true;
    const refresh = async () => {
      const read = await Promise.all(posted.map(async ({ address }) => [address, await client.fetchJob(new PublicKey(address)).catch(() => null)] as const));
      if (live) setJobs(Object.fromEntries(read));
    };
    void refresh();
    const timer = setInterval(() => void refresh(), 1_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, posted]);

  if (!wallet) return <p data-testid="consumer-no-wallet">connect a wallet to post jobs</p>;

  const post = async (form: HTMLFormElement) => {
    setError(null);
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    try {
      const market = markets.find((m) => m.address.toBase58() === field("market"));
      if (!market) throw new Error("choose a market");
      // Inputs are mounted at /inputs/<file name>, named in the spec by their sha256.
      const files = [...((form.elements.namedItem("inputs") as HTMLInputElement).files ?? [])];
      const inputs = new Map<string, Uint8Array>(await Promise.all(files.map(async (file) => [file.name, new Uint8Array(await file.arrayBuffer())] as [string, Uint8Array])));
      const spec: ContainerJobSpec = validateSpec({
        version: 1,
        image: field("image"),
        command: ["sh", "-c", field("command")],
        env: {},
        inputs: [...inputs].map(([name, bytes]) => inputEntry(name, bytes)),
        network: false,
        gpus: 0,
        cpus: Number(field("cpus")),
        memoryMb: Number(field("memoryMb")),
        timeoutSeconds: Number(field("timeoutSeconds")),
        maxOutputBytes: 1_000_000,
      });
      const endpoints = [...new Set(market.providers.map(({ account }) => providerEndpoint(account)))];
      if (endpoints.length === 0) throw new Error("the market has no provider to publish the spec to");
      // Each provider gets the spec's document and every input; the page counts what was sent.
      const total = endpoints.length * [...inputs.values()].reduce((sum, bytes) => sum + bytes.length, 0);
      setUpload(total > 0 ? `uploading the spec and inputs: 0 of ${total} bytes sent` : null);
      const report = await publishSpec(endpoints, spec, inputs, { fetch: total > 0 ? countingInputs(total, inputs, setUpload) : undefined });
      if (report.failed.length === endpoints.length) throw new Error(`no provider took the spec: ${report.failed.map((f) => f.error).join("; ")}`);
      const maxPrice = BigInt(field("maxPrice"));
      const { job } = await client.postJob({
        market: market.address,
        specHash: report.specHash,
        requirements: { cpuCores: Math.ceil(spec.cpus), memoryMb: spec.memoryMb, maxDurationSlots: BigInt(field("maxDurationSlots")) },
        mode: "replicated",
        replication: 1,
        onFailure: "refund",
        maxPrice,
        instantPrice: BigInt(field("instantPrice")),
        bidWindowSlots: BigInt(field("bidWindowSlots")),
      });
      setPosted((all) => [...all, { address: job.toBase58(), title: field("command"), verifiable: false }]);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const postVerifiable = async (form: HTMLFormElement) => {
    setError(null);
    const element = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
    try {
      const market = markets.find((m) => m.address.toBase58() === element("market").value);
      if (!market) throw new Error("choose a market");
      const [code, input] = [await fileBytes(element("code"), "code"), await fileBytes(element("input"), "input")];
      const endpoints = [...new Set(market.providers.map(({ account }) => providerEndpoint(account)))];
      if (endpoints.length === 0) throw new Error("the market has no provider to publish the program to");
      const published = await publishMachineJob(endpoints, code, input);
      if (published.failed.length === endpoints.length) throw new Error(`no provider took the program: ${published.failed.map((f) => f.error).join("; ")}`);
      const { job } = await client.postVerifiableJob({
        market: market.address,
        requirements: { cpuCores: 1, memoryMb: 128, maxDurationSlots: BigInt(element("maxDurationSlots").value) },
        onFailure: "refund",
        maxPrice: BigInt(element("maxPrice").value),
        instantPrice: BigInt(element("instantPrice").value),
        bidWindowSlots: 0n,
        specHash: published.specHash,
        code,
        input,
        machine: await machine(),
      });
      setPosted((all) => [...all, { address: job.toBase58(), title: `${element("code").files?.[0]?.name ?? "program"} on ${input.length} bytes`, verifiable: true }]);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const checkOutput = async (address: string) => {
    setVerifications((all) => ({ ...all, [address]: { state: "checking" } }));
    try {
      const committed = (timelines[address] ?? []).find((entry) => entry.name === "resultCommitted");
      if (!committed) throw new Error("no committed result seen for this job");
      const data = committed.data as { provider: PublicKey; outputRoot: number[]; finalStateHash: number[] };
      const provider = await client.fetchProvider(data.provider);
      if (!provider) throw new Error("the job's provider is gone");
      const bid = { outputRoot: data.outputRoot, finalStateHash: data.finalStateHash };
      // The output's quarter root, computed here by the machine, must prove into the committed final state.
      const output = await fetchVerifiableOutput({ endpoint: providerEndpoint(provider), job: address, bid, machine: await machine() });
      setVerifications((all) => ({ ...all, [address]: { state: "verified", files: [["output", preview(output)]] } }));
    } catch (failure) {
      setVerifications((all) => ({ ...all, [address]: { state: "failed", error: failure instanceof Error ? failure.message : String(failure) } }));
    }
  };

  const cancel = async (address: string) => {
    try {
      await client.cancelJob({ job: new PublicKey(address) });
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const verify = async (address: string) => {
    const signMessage = wallet.signMessage;
    if (!signMessage) return setVerifications((all) => ({ ...all, [address]: { state: "failed", error: "the wallet cannot sign messages, which the provider asks for" } }));
    setVerifications((all) => ({ ...all, [address]: { state: "checking" } }));
    try {
      const committed = (timelines[address] ?? []).find((entry) => entry.name === "resultCommitted");
      if (!committed) throw new Error("no committed result seen for this job");
      const data = committed.data as { provider: PublicKey; outputRoot: number[] };
      const provider = await client.fetchProvider(data.provider);
      if (!provider) throw new Error("the job's provider is gone");
      const results = await fetchResults({ endpoint: providerEndpoint(provider), job: address, publicKey: wallet.publicKey, signMessage, expectedRoot: Uint8Array.from(data.outputRoot) });
      const text = new TextDecoder();
      const files: [string, string][] = [...results.files].map(([name, bytes]) => [name, name.endsWith(".json") || name.startsWith("outputs/") ? text.decode(bytes).slice(0, 200) : `${bytes.length} bytes`]);
      setVerifications((all) => ({ ...all, [address]: { state: "verified", files } }));
    } catch (failure) {
      setVerifications((all) => ({ ...all, [address]: { state: "failed", error: failure instanceof Error ? failure.message : String(failure) } }));
    }
  };

  return (
    <section>
      <h2>Post a container job</h2>
      <form
        data-testid="post-job"
        onSubmit={(event) => {
          event.preventDefault();
          void post(event.currentTarget);
        }}
      >
        <MarketSelect markets={markets} />
        <label>
          image (pinned: sha256:… or name@sha256:…)
          <input name="image" required />
        </label>
        <label>
          command (sh -c)
          <input name="command" defaultValue="echo 42 > /outputs/answer.txt" />
        </label>
        <label>
          inputs (at /inputs/&lt;name&gt;)
          <input type="file" name="inputs" multiple />
        </label>
        <label>
          CPUs <input name="cpus" defaultValue="1" />
        </label>
        <label>
          memory (MiB) <input name="memoryMb" defaultValue="128" />
        </label>
        <label>
          time limit (s) <input name="timeoutSeconds" defaultValue="20" />
        </label>
        <label>
          longest run (slots) <input name="maxDurationSlots" defaultValue="300" />
        </label>
        <label>
          maximum price <input name="maxPrice" defaultValue="1000" />
        </label>
        <label>
          instant price (0: none) <input name="instantPrice" defaultValue="1000" />
        </label>
        <label>
          bid window (slots; 0: the market's) <input name="bidWindowSlots" defaultValue="0" />
        </label>
        <button type="submit" data-testid="post-submit">
          post
        </button>
        {upload && <p data-testid="upload-progress">{upload}</p>}
        {error && (
          <p class="error" data-testid="consumer-error">
            {error}
          </p>
        )}
      </form>
      <h2>Post a verifiable job</h2>
      <form
        data-testid="post-verifiable"
        onSubmit={(event) => {
          event.preventDefault();
          void postVerifiable(event.currentTarget);
        }}
      >
        <MarketSelect markets={markets} />
        <label>
          code (an rv32im image for the machine)
          <input type="file" name="code" />
        </label>
        <label>
          input
          <input type="file" name="input" />
        </label>
        <label>
          longest run (slots) <input name="maxDurationSlots" defaultValue="300" />
        </label>
        <label>
          maximum price <input name="maxPrice" defaultValue="1000" />
        </label>
        <label>
          instant price (0: none) <input name="instantPrice" defaultValue="1000" />
        </label>
        <button type="submit" data-testid="post-verifiable-submit">
          post
        </button>
      </form>
      <h2>Your jobs</h2>
      {posted.map(({ address, title, verifiable }) => {
        const job = jobs[address];
        const state = job ? rules.stateOf(job) : job === null ? "closed" : "…";
        const verification = verifications[address];
        const committed = (timelines[address] ?? []).some((entry) => entry.name === "resultCommitted");
        return (
          <article class="market" data-testid="my-job" data-address={address}>
            <h3>
              job {address.slice(0, 8)}… · {title} · <span data-testid="job-state">{state}</span>
            </h3>
            <ol data-testid="timeline">
              {(timelines[address] ?? []).map((entry) => (
                <li>
                  slot {entry.slot}: {describe(entry)}
                </li>
              ))}
            </ol>
            {state === "open" && (
              <button type="button" data-testid="cancel" onClick={() => void cancel(address)}>
                cancel
              </button>
            )}
            {committed && (
              <button type="button" data-testid="verify" onClick={() => void (verifiable ? checkOutput(address) : verify(address))}>
                {verifiable ? "check the output with the machine" : "download and verify the result"}
              </button>
            )}
            {verification?.state === "checking" && <p>checking every file against the on-chain root…</p>}
            {verification?.state === "verified" && (
              <div data-testid="verified">
                <p>{verifiable ? "verified: the output proves into the final state committed on-chain (checked by the machine in this page)" : "verified: every file matches the output root committed on-chain"}</p>
                <ul>
                  {verification.files.map(([name, preview]) => (
                    <li>
                      <code>{name}</code>: <code data-testid={`file-${name}`}>{preview}</code>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {verification?.state === "failed" && (
              <p class="error" data-testid="verify-failed">
                verification failed: {verification.error}
              </p>
            )}
          </article>
        );
      })}
    </section>
  );
}
