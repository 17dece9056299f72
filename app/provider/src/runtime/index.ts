// The provider node's container runtime (Docker through dockerode).
export * from "./container-options";
export * from "./docker-runner";
export * from "./errors";
export * from "./inputs";
export * from "./service-container";
