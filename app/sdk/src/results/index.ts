// Job results: the output Merkle root, the results server's wallet auth, and the consumer's client.
export * from "./auth";
export * from "./client";
export * from "./merkle";
