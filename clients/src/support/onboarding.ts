/**
 * What the frontend checks share: valid step data (as tests/support/onboarding.py
 * has it), and a `fetch` that signs every request as one user and counts them.
 */
import type { Service } from "./service.js";

export const WEBSITE = "https://www.my-little-shop.com";

export const STEP_DATA = {
  1: {
    apiKeys: {
      gemini: "AIzaSyD-test-gemini-key-0123456789abc",
      exa: "3f1c2b8e-9d4a-4c6b-8f2e-1a2b3c4d5e6f",
      copilotkit: "ck_pub_0123456789abcdef0123456789abcdef",
    },
  },
  2: { website: WEBSITE, target_audience: "online shoppers" },
} as const;

export interface SignedFetch {
  /** `fetch` with a fresh 60-second token for the user on every request, as a frontend sends. */
  readonly fetch: typeof fetch;
  /** How many requests went to the service so far. */
  requests(): number;
}

export function signedFetch(service: Service, sub: string, clientName: string): SignedFetch {
  let count = 0;
  const signed: typeof fetch = async (input, init) => {
    count += 1;
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${await service.issuer.mint(sub)}`);
    headers.set("graphql-client-name", clientName);
    return fetch(input, { ...init, headers });
  };
  return { fetch: signed, requests: () => count };
}

/** Let every pending promise and timer callback run, so a refetch one of them starts is counted. */
export async function settle(): Promise<void> {
  for (let round = 0; round < 5; round += 1) {
    await new Promise((done) => setTimeout(done, 20));
  }
}
