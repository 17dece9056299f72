// The validator suite runs on one cluster, whose config only one authority can initialize: the
// first suite to initialize it leaves its authority here for the others to create markets with.
import type { ClusterWallet } from "../support/cluster-market";

export const protocol: { authority: ClusterWallet | null } = { authority: null };
