// The Docker engine for the provider's tests: the daemon that `scripts/docker-up` started and the
// busybox test image it built. A missing daemon fails the suite with the command that fixes it.
import Docker from "dockerode";
import type { ContainerJobSpec } from "@compute-market/sdk";

export const TEST_IMAGE = "compute-market/busybox:test";

export async function testDocker(): Promise<{ docker: Docker; image: string }> {
  const docker = new Docker({ socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock" });
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(`no Docker daemon answers (${error instanceof Error ? error.message : String(error)}): run \`bash scripts/docker-up\``);
  }
  let id: string;
  try {
    id = (await docker.getImage(TEST_IMAGE).inspect()).Id;
  } catch {
    throw new Error(`the test image ${TEST_IMAGE} is missing: run \`bash scripts/docker-up\``);
  }
  return { docker, image: id };
}

/** A spec for the test image running `script` in busybox sh. */
export function shellSpec(image: string, script: string, overrides: Partial<ContainerJobSpec> = {}): ContainerJobSpec {
  return {
    version: 1,
    image,
    command: ["sh", "-c", script],
    env: {},
    inputs: [],
    network: false,
    gpus: 0,
    cpus: 1,
    memoryMb: 64,
    timeoutSeconds: 20,
    maxOutputBytes: 1_000_000,
    ...overrides,
  };
}

export async function jobContainers(docker: Docker): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: ["compute-market.job"] } })).length;
}

