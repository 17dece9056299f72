// One market entry of a migrations file (`migrate --markets`), as the migration suites write it.
import type { PublicKey } from "@solana/web3.js";

export function marketEntry(name: string, paymentMint: PublicKey, stakeMint: PublicKey, minStake: string) {
  return {
    name,
    paymentMint: paymentMint.toBase58(),
    stakeMint: stakeMint.toBase58(),
    class: { gpuModel: "", minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 512 },
    params: {
      minStake,
      jobStakeLock: "1000000",
      crankFee: "10000",
      bidWindowSlots: "20",
      revealWindowSlots: "20",
      startWindowSlots: "20",
      challengeWindowSlots: "50",
      unbondingSlots: "100",
      slashNoShowBps: 1000,
      slashTimeoutBps: 5000,
      slashConsumerShareBps: 5000,
      defaultReplication: 1,
    },
  };
}
