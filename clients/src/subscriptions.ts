/**
 * Subscriptions as a frontend uses them: the `graphql-ws` client (`createClient`,
 * graphql-transport-ws) with `connectionParams` that fetch a fresh token on every
 * connect, against two `onboarding-api serve` processes on one PostgreSQL database.
 *
 * 1. a discovery started with `wait: false` (through the second process) is
 *    followed through the first: RUNNING, then COMPLETED, then complete;
 * 2. a second client completes step 1 through the second process; the first
 *    client's `onboardingProgress` subscription on the first process sees it;
 * 3. an expired token is refused in `connection_init` (4403, and why), no
 *    token at all with 4401;
 * 4. a client whose token was refused reconnects with a fresh one from
 *    `connectionParams`, as graphql-ws does by default on 4403.
 */
import { strict as assert } from "node:assert";
import { print } from "graphql";
import { GraphQLClient } from "graphql-request";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  CompleteOnboardingStepDocument,
  DiscoverCompetitorsDocument,
  DiscoveryUpdatesDocument,
  type DiscoveryUpdatesSubscription,
  ProgressUpdatesDocument,
  type ProgressUpdatesSubscription,
} from "./generated/graphql.js";
import { STEP_DATA, WEBSITE } from "./support/onboarding.js";
import type { Service } from "./support/service.js";
import { startTwoProcesses } from "./support/two-processes.js";

const USER = "user_2subscriber";
const WITHIN_MS = 20_000;

interface CloseLike {
  readonly code: number;
  readonly reason: string;
}

function subscriptionClient(
  service: Service,
  token: () => Promise<string>,
  options: { retryAttempts?: number; closed?: (event: CloseLike) => void } = {},
): Client {
  return createClient({
    url: service.websocketUrl,
    webSocketImpl: WebSocket,
    // Called on every (re)connect: a 60-second session token is fetched each time.
    connectionParams: async () => ({ Authorization: `Bearer ${await token()}` }),
    retryAttempts: options.retryAttempts ?? 5,
    retryWait: async () => undefined,
    on: { closed: (event) => options.closed?.(event as CloseLike) },
  });
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, fail) =>
      setTimeout(() => fail(new Error(`${what}: nothing within ${WITHIN_MS} ms`)), WITHIN_MS).unref(),
    ),
  ]);
}

/** How the server closed the socket a first subscription would open. */
async function refusal(client: Client): Promise<CloseLike> {
  const updates = client.iterate({ query: print(ProgressUpdatesDocument) });
  try {
    await within(updates.next(), "refusal");
  } catch (error) {
    return error as CloseLike;
  } finally {
    await client.dispose();
  }
  throw new Error("the subscription was answered");
}

const processes = await startTwoProcesses();
const { first, second, issuer, provider } = processes;
const mintFresh = () => issuer.mint(USER);
const subscriber = subscriptionClient(first, mintFresh);
try {
  // 1. A discovery, started through the second process, followed through the first.
  const starter = new GraphQLClient(second.graphqlUrl, {
    headers: { authorization: `Bearer ${await mintFresh()}` },
  });
  const started = await starter.request(DiscoverCompetitorsDocument, {
    input: { userUrl: WEBSITE, numResults: 4, wait: false },
  });
  assert.deepEqual(started.discoverCompetitors.userErrors, []);
  const discoveryId = started.discoverCompetitors.discovery?.id;
  assert.ok(discoveryId, "wait: false answers the discovery at once");
  await within(provider.asked, "the provider being asked");
  const statuses: string[] = [];
  let competitors = 0;
  const discovery = subscriber.iterate<DiscoveryUpdatesSubscription>({
    query: print(DiscoveryUpdatesDocument),
    variables: { id: discoveryId },
  });
  await within(
    (async () => {
      for await (const result of discovery) {
        assert.equal(result.errors, undefined, JSON.stringify(result.errors));
        const update = result.data?.competitorDiscovery;
        assert.ok(update);
        assert.equal(update.id, discoveryId);
        statuses.push(update.status);
        competitors = update.competitors.length;
        if (update.status === "RUNNING") provider.release();
      }
    })(),
    "the discovery's updates",
  );
  assert.deepEqual(statuses, ["RUNNING", "COMPLETED"], "RUNNING, then COMPLETED, then complete");
  assert.equal(competitors, 4);
  console.log("graphql-ws: a discovery started with wait: false went RUNNING → COMPLETED, then completed");

  // 2. Another client's step, through the other process, reaches this subscriber.
  const progress = subscriber.iterate<ProgressUpdatesSubscription>({
    query: print(ProgressUpdatesDocument),
  });
  const initial = await within(progress.next(), "the progress at once");
  assert.equal(initial.value?.data?.onboardingProgress.currentStep, 1);
  const otherDevice = new GraphQLClient(second.graphqlUrl, {
    headers: { authorization: `Bearer ${await mintFresh()}` },
  });
  const completed = await otherDevice.request(CompleteOnboardingStepDocument, {
    input: { step: 1, data: STEP_DATA[1] },
  });
  assert.deepEqual(completed.completeOnboardingStep.userErrors, []);
  const pushed = await within(progress.next(), "the pushed progress");
  assert.equal(pushed.value?.data?.onboardingProgress.currentStep, 2);
  assert.equal(pushed.value?.data?.onboardingProgress.steps[0]?.status, "COMPLETED");
  await progress.return?.();
  console.log("graphql-ws: a step completed through the other process was pushed to the subscriber");

  // 3. Refused in connection_init: an expired token (4403), no token (4401).
  const expiredAt = Math.floor(Date.now() / 1000) - 3600;
  const expired = await refusal(
    subscriptionClient(first, () => issuer.mint(USER, { exp: expiredAt }), { retryAttempts: 0 }),
  );
  assert.equal(expired.code, 4403);
  assert.equal(expired.reason, "Forbidden: invalid bearer token: token expired");
  const anonymous = await refusal(
    createClient({ url: first.websocketUrl, webSocketImpl: WebSocket, retryAttempts: 0 }),
  );
  assert.equal(anonymous.code, 4401);
  console.log(`graphql-ws: an expired token was refused (${expired.code} ${expired.reason})`);

  // 4. After a 4403 graphql-ws retries, and connectionParams fetches a fresh token.
  let connects = 0;
  const closes: number[] = [];
  const recovering = subscriptionClient(
    first,
    async () => {
      connects += 1;
      return connects === 1 ? issuer.mint(USER, { exp: expiredAt }) : mintFresh();
    },
    { closed: (event) => closes.push(event.code) },
  );
  const recovered = recovering.iterate<ProgressUpdatesSubscription>({
    query: print(ProgressUpdatesDocument),
  });
  const afterRetry = await within(recovered.next(), "the progress after a retry");
  assert.equal(afterRetry.value?.data?.onboardingProgress.currentStep, 2);
  assert.deepEqual(closes, [4403]);
  assert.equal(connects, 2);
  await recovered.return?.();
  await recovering.dispose();
  console.log("graphql-ws: refused with 4403, the client reconnected with a fresh token");
} finally {
  await subscriber.dispose();
  await processes.stop();
}
