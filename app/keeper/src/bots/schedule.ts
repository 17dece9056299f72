// When each crank is due: the SDK's rules module, which states the program's checks in one place
// (the fuzzer holds it to the program), so a keeper does not send what would be refused.
import { rules } from "@compute-market/sdk";

export type JobStateName = rules.JobStateName;

export const { stateOf, awardDue, expiryDue, holdsAward, noShowDue, timeoutDue, isService, pauseDue, replicaCloseDue, seatAwardDue, seatNoShowDue, finalizeDue, refereeDue, challengeOpen } = rules;
