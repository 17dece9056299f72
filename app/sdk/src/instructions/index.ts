// Instruction builders: explicit accounts in, one TransactionInstruction out.
export * from "./create-market";
export * from "./initialize-config";
export * from "./jobs";
export * from "./register-provider";
export * from "./stake";
export * from "./update-config";
export * from "./bids";
export * from "./lifecycle";
export * from "./disputes";
export * from "./services";
