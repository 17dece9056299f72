// Solana's WebSocket PubSub over a Ledger: account, program, signature, logs and slot
// subscriptions, notified from the ledger's observer with a node's notification shapes.
import type { GetProgramAccountsFilter, PublicKey } from "@solana/web3.js";
import WebSocket from "ws";
import { accountEncodingConfig, closedAccount, filtersParam, uiAccount, uiKeyedAccount, type AccountEncodingConfig } from "./account-json";
import { matchesFilters } from "./filters";
import type { AccountLookup } from "./token-json";
import {
  ErrorCode,
  RpcError,
  configParam,
  failure,
  integerParam,
  invalidParams,
  isObject,
  parseRequest,
  pubkeyParam,
  requestId,
  respond,
  stringParam,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type RequestLogger,
} from "./jsonrpc";
import type { ChangedAccount, Ledger, ProcessedTransaction } from "./ledger";

/** What a subscription listens for, as parsed from its subscribe request. */
type Topic =
  | { kind: "account"; pubkey: PublicKey; encoding: AccountEncodingConfig }
  | { kind: "program"; programId: PublicKey; filters: GetProgramAccountsFilter[]; encoding: AccountEncodingConfig }
  | { kind: "signature"; signature: string; enableReceivedNotification: boolean }
  | { kind: "logs"; mentions: PublicKey | null; withVotes: boolean }
  | { kind: "slot" };

type Subscription = Topic & { id: number; socket: WebSocket };

const NOTIFICATION_METHODS: Record<Topic["kind"], string> = {
  account: "accountNotification",
  program: "programNotification",
  signature: "signatureNotification",
  logs: "logsNotification",
  slot: "slotNotification",
};

const SUBSCRIBE_METHODS: Record<string, (params: unknown[]) => Topic> = {
  accountSubscribe: accountTopic,
  programSubscribe: programTopic,
  signatureSubscribe: signatureTopic,
  logsSubscribe: logsTopic,
  slotSubscribe: () => ({ kind: "slot" }),
};

const UNSUBSCRIBE_METHODS = new Set(["accountUnsubscribe", "programUnsubscribe", "signatureUnsubscribe", "logsUnsubscribe", "slotUnsubscribe"]);

const VOTE_PROGRAM = "Vote111111111111111111111111111111111111111";

export interface PubSubOptions {
  /** Called for every request served, for logging. */
  onRequest?: RequestLogger;
}

/** Subscriptions of every connected socket, fed by the ledger. */
export class PubSub {
  private readonly subscriptions = new Map<number, Subscription>();
  private readonly sockets = new Set<WebSocket>();
  private readonly detach: () => void;
  private nextId = 0;
  /** Where `jsonParsed` notifications read a token account's mint. */
  private readonly lookup: AccountLookup = (pubkey) => this.ledger.getAccount(pubkey);

  constructor(
    private readonly ledger: Ledger,
    private readonly options: PubSubOptions = {},
  ) {
    this.detach = ledger.observe({
      onTransaction: (processed, changed) => this.onTransaction(processed, changed),
      onAccountWritten: (changed) => this.notifyAccounts([changed], Number(ledger.slot)),
      onSlot: (slot, parent) => this.notifySlot(Number(slot), Number(parent)),
    });
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** Serves a connected socket's requests until it closes. */
  accept(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on("message", (data) => this.onMessage(socket, data.toString()));
    socket.on("close", () => this.forget(socket));
    // A broken connection (reset, malformed frame) ends that socket only; unhandled, it would end the process.
    socket.on("error", () => socket.terminate());
  }

  /**
   * Stops notifying and closes every socket. With code 1000, a normal closure: web3.js then
   * reconnects only if it still has subscriptions, instead of retrying forever.
   */
  close(): void {
    this.detach();
    for (const socket of this.sockets) socket.close(1000, "localnet closed");
    this.sockets.clear();
    this.subscriptions.clear();
  }

  private onMessage(socket: WebSocket, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      send(socket, failure(null, { code: ErrorCode.parseError, message: "Parse error" }));
      return;
    }
    const started = performance.now();
    const created: Subscription[] = [];
    const response = respond(requestId(isObject(message) ? message.id : null), () => {
      const request = parseRequest(message);
      const subscription = this.subscribe(socket, request);
      if (!subscription) return this.unsubscribe(socket, request);
      created.push(subscription);
      return subscription.id;
    });
    this.log(message, response, started);
    // A notification (a request without an id, such as web3.js's keep-alive "ping") gets no answer.
    if (isObject(message) && "id" in message) send(socket, response);
    // After the answer, so that the client knows the subscription id a notification names.
    created.forEach((subscription) => this.catchUp(subscription));
  }

  /** The new subscription, or null if the request is not a subscribe request. */
  private subscribe(socket: WebSocket, { method, params }: JsonRpcRequest): Subscription | null {
    if (!Object.hasOwn(SUBSCRIBE_METHODS, method)) return null;
    const subscription: Subscription = { ...SUBSCRIBE_METHODS[method](params), id: this.nextId++, socket };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  private unsubscribe(socket: WebSocket, { method, params }: JsonRpcRequest): boolean {
    if (!UNSUBSCRIBE_METHODS.has(method)) throw new RpcError(ErrorCode.methodNotFound, "Method not found");
    const id = integerParam(params[0], "subscription id");
    if (this.subscriptions.get(id)?.socket !== socket) throw new RpcError(ErrorCode.invalidParams, "Invalid subscription id.");
    return this.subscriptions.delete(id);
  }

  /** A signature subscribed to after its transaction landed is answered at once, as a node does. */
  private catchUp(subscription: Subscription): void {
    if (subscription.kind !== "signature") return;
    const processed = this.ledger.getTransaction(subscription.signature);
    if (processed) this.notifySignature(subscription, processed);
  }

  private forget(socket: WebSocket): void {
    this.sockets.delete(socket);
    for (const [id, subscription] of this.subscriptions) if (subscription.socket === socket) this.subscriptions.delete(id);
  }

  private onTransaction(processed: ProcessedTransaction, changed: ChangedAccount[]): void {
    const slot = Number(processed.slot);
    this.notifyAccounts(changed, slot);
    if (processed.transaction) this.notifyLogs(processed, slot);
    for (const subscription of this.ofKind("signature")) {
      if (subscription.signature === processed.signature) this.notifySignature(subscription, processed);
    }
  }

  private notifyAccounts(changed: ChangedAccount[], slot: number): void {
    for (const { pubkey, account } of changed) {
      for (const subscription of this.ofKind("account")) {
        if (!subscription.pubkey.equals(pubkey)) continue;
        this.notify(subscription, { context: { slot }, value: uiAccount(account ?? closedAccount(), subscription.encoding, this.lookup) });
      }
      // A closed account belongs to no program any more, so program subscribers hear nothing of it.
      if (account === null) continue;
      for (const subscription of this.ofKind("program")) {
        if (!subscription.programId.equals(account.owner) || !matchesFilters(account.data, subscription.filters)) continue;
        this.notify(subscription, { context: { slot }, value: uiKeyedAccount(pubkey, account, subscription.encoding, this.lookup) });
      }
    }
  }

  private notifyLogs(processed: ProcessedTransaction, slot: number): void {
    const keys = accountKeysOf(processed);
    const isVote = keys.some((key) => key.toBase58() === VOTE_PROGRAM);
    const value = { signature: processed.signature, err: processed.error?.rpc ?? null, logs: processed.logs };
    for (const subscription of this.ofKind("logs")) {
      const { mentions, withVotes } = subscription;
      const matches = mentions ? keys.some((key) => key.equals(mentions)) : withVotes || !isVote;
      if (matches) this.notify(subscription, { context: { slot }, value });
    }
  }

  /** Notifies the outcome, then ends the subscription: a node drops it after its one notification. */
  private notifySignature(subscription: Subscription & { kind: "signature" }, processed: ProcessedTransaction): void {
    const context = { slot: Number(processed.slot) };
    if (subscription.enableReceivedNotification) this.notify(subscription, { context, value: "receivedSignature" });
    this.notify(subscription, { context, value: { err: processed.error?.rpc ?? null } });
    this.subscriptions.delete(subscription.id);
  }

  private notifySlot(slot: number, parent: number): void {
    // Everything is final at once, so the root is the slot itself.
    for (const subscription of this.ofKind("slot")) this.notify(subscription, { parent, root: slot, slot });
  }

  private ofKind<K extends Topic["kind"]>(kind: K): (Subscription & { kind: K })[] {
    return [...this.subscriptions.values()].filter((subscription): subscription is Subscription & { kind: K } => subscription.kind === kind);
  }

  private notify(subscription: Subscription, result: unknown): void {
    send(subscription.socket, { jsonrpc: "2.0", method: NOTIFICATION_METHODS[subscription.kind], params: { result, subscription: subscription.id } });
  }

  private log(message: unknown, response: JsonRpcResponse, started: number): void {
    if (!this.options.onRequest) return;
    const method = isObject(message) && typeof message.method === "string" ? message.method : "(invalid)";
    const error = "error" in response ? response.error : null;
    this.options.onRequest({ transport: "ws", method, id: response.id, ms: performance.now() - started, error });
  }
}

function send(socket: WebSocket, message: JsonRpcResponse | object): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function accountTopic([pubkey, config]: unknown[]): Topic {
  return { kind: "account", pubkey: pubkeyParam(pubkey, "pubkey"), encoding: accountEncodingConfig(configParam(config)) };
}

function programTopic([programId, rawConfig]: unknown[]): Topic {
  const config = configParam(rawConfig);
  return {
    kind: "program",
    programId: pubkeyParam(programId, "program id"),
    filters: filtersParam(config.filters),
    encoding: accountEncodingConfig(config),
  };
}

function signatureTopic([signature, config]: unknown[]): Topic {
  return {
    kind: "signature",
    signature: stringParam(signature, "signature"),
    enableReceivedNotification: configParam(config).enableReceivedNotification === true,
  };
}

/** `"all"` (votes excepted), `"allWithVotes"`, or `{ mentions: [pubkey] }` with exactly one key, as on a node. */
function logsTopic([filter]: unknown[]): Topic {
  if (filter === "all" || filter === "allWithVotes") return { kind: "logs", mentions: null, withVotes: filter === "allWithVotes" };
  if (isObject(filter) && Array.isArray(filter.mentions)) {
    if (filter.mentions.length !== 1) throw new RpcError(ErrorCode.invalidParams, "Invalid Request: Only 1 address supported");
    return { kind: "logs", mentions: pubkeyParam(filter.mentions[0], "mentions[0]"), withVotes: true };
  }
  throw invalidParams('expected "all", "allWithVotes" or { mentions: [pubkey] }');
}

function accountKeysOf(processed: ProcessedTransaction): PublicKey[] {
  const loaded = processed.loadedAddresses;
  return [...(processed.transaction?.message.staticAccountKeys ?? []), ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
}
