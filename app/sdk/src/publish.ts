// A consumer's job, end to end from the SDK: publish the spec and its inputs (or a verifiable
// job's code and input) to the market's providers (content-addressed, so no provider can alter
// them), post the job with the spec's hash, and find the winners' endpoints to fetch results from.
import { bytesToHex } from "@noble/hashes/utils";
import { sha256 } from "@noble/hashes/sha256";
import type { ProviderAccount } from "./accounts";
import { endpointText } from "./native";
import { uploadBlob, type HttpOptions } from "./results/client";
import { encodeMachineSpec, machineSpec, type MachineJobSpec } from "./machine-spec";
import { encodeSpec, type ContainerJobSpec, type JobInput } from "./spec";

/** Where a spec was published: the endpoints that hold it, and why the others do not. */
export interface PublishReport {
  specHash: Uint8Array;
  published: string[];
  failed: { endpoint: string; error: string }[];
}

/** An input file's entry in a spec, from its bytes. */
export function inputEntry(path: string, bytes: Uint8Array): JobInput {
  return { path, sha256: bytesToHex(sha256(bytes)), size: bytes.length };
}

/**
 * Uploads the spec document and every input to each endpoint. An endpoint that fails is reported,
 * not fatal: a provider that lacks the spec simply does not bid.
 */
export async function publishSpec(
  endpoints: readonly string[],
  spec: ContainerJobSpec,
  inputs: ReadonlyMap<string, Uint8Array>,
  options: HttpOptions = {},
): Promise<PublishReport> {
  const document = encodeSpec(spec);
  const blobs = spec.inputs.map((input) => {
    const bytes = inputs.get(input.path);
    if (!bytes) throw new Error(`input ${input.path} is in the spec but its bytes were not given`);
    if (bytesToHex(sha256(bytes)) !== input.sha256 || bytes.length !== input.size) throw new Error(`input ${input.path} does not match its spec entry`);
    return bytes;
  });
  return publishBlobs(endpoints, document, blobs, options);
}

/**
 * Publishes a verifiable job's program: its spec document (whose hash the job is posted with),
 * code and input, to each endpoint. Providers need them to run the job, keepers to check it.
 */
export async function publishMachineJob(
  endpoints: readonly string[],
  code: Uint8Array,
  input: Uint8Array,
  options: HttpOptions = {},
): Promise<PublishReport & { spec: MachineJobSpec }> {
  const spec = machineSpec(code, input);
  return { ...(await publishBlobs(endpoints, encodeMachineSpec(spec), [code, input], options)), spec };
}

async function publishBlobs(endpoints: readonly string[], document: Uint8Array, blobs: Uint8Array[], options: HttpOptions): Promise<PublishReport> {
  const report: PublishReport = { specHash: sha256(document), published: [], failed: [] };
  await Promise.all(
    endpoints.map(async (endpoint) => {
      try {
        await uploadBlob(endpoint, document, options);
        for (const blob of blobs) await uploadBlob(endpoint, blob, options);
        report.published.push(endpoint);
      } catch (error) {
        report.failed.push({ endpoint, error: error instanceof Error ? error.message : String(error) });
      }
    }),
  );
  return report;
}

/** The endpoint URL a provider registered. */
export function providerEndpoint(provider: Pick<ProviderAccount, "endpoint">): string {
  return endpointText(provider.endpoint);
}

/** Distinct endpoints of the given providers, e.g. every provider of a market. */
export function endpointsOf(providers: readonly Pick<ProviderAccount, "endpoint">[]): string[] {
  return [...new Set(providers.map(providerEndpoint))];
}
