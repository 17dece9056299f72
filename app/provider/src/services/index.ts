// The provider's side of service leases: acknowledgements kept, and claimed on a schedule.
export * from "./acknowledgements";
export * from "./claim-schedule";
export * from "./claimer";
