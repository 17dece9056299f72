// Small helpers shared by the results modules; only ResultsHttpError is re-exported (by client.ts).

/** The server refused a request; `serverMessage` is the `error` of its JSON body. */
export class ResultsHttpError extends Error {
  constructor(readonly status: number, readonly serverMessage: string, readonly url: string) {
    super(`results server answered ${status}: ${serverMessage}`);
    this.name = "ResultsHttpError";
  }
}

export function trimEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}

/** The `error` of a JSON error body, or the start of the raw text. */
export async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
