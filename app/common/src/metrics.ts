// Prometheus metrics on a registry of the daemon's own (no global state shared between daemons
// in one process, as in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

export function createRegistry(prefix: string, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: prefix });
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: `${prefix}_` });
  return registry;
}
