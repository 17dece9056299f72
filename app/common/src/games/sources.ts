// Where a daemon looks for a verifiable job's spec, code and input: content-addressed blobs at
// HTTP endpoints (the job's winners, configured mirrors). Every blob is checked
// against its id by `fetchBlob`, so no source has to be trusted.
import { fetchBlob, type BlobSource } from "@compute-market/sdk";

/** Blobs from the first of `endpoints()` that serves them; failures are reported to `onMiss`. */
export function endpointBlobSource(endpoints: () => readonly string[], onMiss?: (endpoint: string, sha256: string, error: unknown) => void): BlobSource {
  return async (sha256, maxBytes) => {
    for (const endpoint of endpoints()) {
      try {
        return await fetchBlob(endpoint, sha256, { maxBytes });
      } catch (error) {
        onMiss?.(endpoint, sha256, error);
      }
    }
    return null;
  };
}

