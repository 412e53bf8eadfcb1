/**
 * Two `onboarding-api serve` processes on one fresh PostgreSQL database, as two
 * instances behind a load balancer run: one issuer, one data directory (so one
 * secret key), and a provider whose answers the check holds back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HeldProvider, HELD_PROVIDER_KEY, startHeldProvider } from "./held-provider.js";
import { freshDatabase } from "./postgres.js";
import { type Issuer, type Service, startIssuer, startService } from "./service.js";

export interface TwoProcesses {
  readonly first: Service;
  readonly second: Service;
  readonly issuer: Issuer;
  readonly provider: HeldProvider;
  stop(): Promise<void>;
}

export async function startTwoProcesses(): Promise<TwoProcesses> {
  const database = await freshDatabase();
  const issuer = await startIssuer();
  const provider = await startHeldProvider();
  const dataDir = mkdtempSync(join(tmpdir(), "onboarding-clients-shared-"));
  const options = {
    issuer,
    dataDir,
    env: {
      ONBOARDING_DATABASE_URL: database.url,
      ONBOARDING_COMPETITOR_PROVIDER: "exa",
      EXA_API_KEY: HELD_PROVIDER_KEY,
      ONBOARDING_EXA_BASE_URL: provider.baseUrl,
    },
  };
  const started: Service[] = [];
  const stop = async (): Promise<void> => {
    provider.release();
    for (const service of started.reverse()) await service.stop();
    await provider.close();
    await issuer.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // One after the other: the first migrates the new database, the second finds it done.
    started.push(await startService(options));
    started.push(await startService(options));
  } catch (error) {
    await stop();
    throw error;
  }
  const [first, second] = started as [Service, Service];
  return { first, second, issuer, provider, stop };
}
