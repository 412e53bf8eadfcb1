/**
 * Apollo Client 4's `GraphQLWsLink` (over `graphql-ws`) for subscriptions, split
 * from an `HttpLink` for the rest, as Apollo's docs set it up, against two
 * `onboarding-api serve` processes on one PostgreSQL database. Run with
 * `node --conditions=development`; any console warning or error fails it.
 *
 * 1. a discovery started with `wait: false` over HTTP (second process) is
 *    subscribed to over WebSocket (first process): RUNNING, then COMPLETED,
 *    and the normalized cache holds the COMPLETED discovery afterwards;
 * 2. a second Apollo client's step mutation through the second process is seen
 *    by the first client's `onboardingProgress` subscription;
 * 3. an expired token is refused in `connection_init`: the subscription errors
 *    with the close event's 4403 and reason.
 */
import { strict as assert } from "node:assert";
import {
  ApolloClient,
  ApolloLink,
  type DocumentNode,
  HttpLink,
  InMemoryCache,
  gql,
} from "@apollo/client/core";
import { loadDevMessages, loadErrorMessages } from "@apollo/client/dev";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { OperationTypeNode } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  CompleteOnboardingStepDocument,
  DiscoverCompetitorsDocument,
  DiscoveryUpdatesDocument,
  ProgressUpdatesDocument,
} from "./generated/graphql.js";
import { guardConsole } from "./support/console-guard.js";
import { STEP_DATA, WEBSITE, signedFetch } from "./support/onboarding.js";
import type { Service } from "./support/service.js";
import { startTwoProcesses } from "./support/two-processes.js";

const USER = "user_2apollosubscriber";
const WITHIN_MS = 20_000;

const DISCOVERY_STATUS = gql`
  fragment DiscoveryStatus on CompetitorDiscovery {
    id
    status
  }
`;

function apolloClient(
  websocket: Service,
  http: Service,
  token: () => Promise<string>,
  retryAttempts = 5,
): ApolloClient {
  const subscriptions = new GraphQLWsLink(
    createClient({
      url: websocket.websocketUrl,
      webSocketImpl: WebSocket,
      connectionParams: async () => ({ Authorization: `Bearer ${await token()}` }),
      retryAttempts,
    }),
  );
  const queries = new HttpLink({
    uri: http.graphqlUrl,
    fetch: signedFetch(http, USER, "onboarding-frontend").fetch,
  });
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
      subscriptions,
      queries,
    ),
  });
}

interface Collected<T> {
  readonly results: T[];
  readonly error: Error | undefined;
}

interface Watching<T> {
  /** Called with each result as it comes. */
  readonly onResult?: (data: T) => void;
  /** Stop (unsubscribe) after the first result this holds for. */
  readonly until?: (data: T) => boolean;
}

/** Every result of a subscription until it completes, errors or `until` holds. */
function collect<T>(
  client: ApolloClient,
  query: DocumentNode,
  variables: Record<string, unknown>,
  { onResult, until }: Watching<T> = {},
): Promise<Collected<T>> {
  const results: T[] = [];
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error("the subscription never ended")), WITHIN_MS);
    let ended = false;
    const end = (error: Error | undefined) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      queueMicrotask(() => subscription.unsubscribe());
      done({ results, error });
    };
    const subscription = client.subscribe<T>({ query, variables }).subscribe({
      next: (result) => {
        if (result.error !== undefined || result.data === undefined) return end(result.error);
        results.push(result.data);
        onResult?.(result.data);
        if (until?.(result.data)) end(undefined);
      },
      error: (error: Error) => end(error),
      complete: () => end(undefined),
    });
  });
}

loadDevMessages();
loadErrorMessages();
const guard = guardConsole();
const processes = await startTwoProcesses();
const { first, second, issuer, provider } = processes;
const mintFresh = () => issuer.mint(USER);
const frontend = apolloClient(first, second, mintFresh);
try {
  // 1. A discovery started over HTTP, followed over WebSocket into the cache.
  const started = await frontend.mutate({
    mutation: DiscoverCompetitorsDocument,
    variables: { input: { userUrl: WEBSITE, numResults: 3, wait: false } },
  });
  const discoveryId = started.data?.discoverCompetitors.discovery?.id;
  assert.ok(discoveryId, "wait: false answers the discovery at once");
  await provider.asked;
  const followed = await collect<{ competitorDiscovery: { status: string } }>(
    frontend,
    DiscoveryUpdatesDocument,
    { id: discoveryId },
    {
      onResult: (data) => {
        if (data.competitorDiscovery.status === "RUNNING") provider.release();
      },
    },
  );
  assert.equal(followed.error, undefined);
  assert.deepEqual(
    followed.results.map((data) => data.competitorDiscovery.status),
    ["RUNNING", "COMPLETED"],
  );
  const cached = frontend.readFragment<{ status: string }>({
    from: { __typename: "CompetitorDiscovery", id: discoveryId },
    fragment: DISCOVERY_STATUS,
  });
  assert.equal(cached?.status, "COMPLETED", "the subscription's results are in the cache");
  console.log("apollo: GraphQLWsLink followed a discovery RUNNING → COMPLETED into the cache");

  // 2. Another Apollo client's step, through the other process, is pushed to this one.
  const otherDevice = apolloClient(second, second, mintFresh);
  const progress = await collect<{ onboardingProgress: { currentStep: number } }>(
    frontend,
    ProgressUpdatesDocument,
    {},
    {
      onResult: (data) => {
        if (data.onboardingProgress.currentStep !== 1) return;
        void otherDevice.mutate({
          mutation: CompleteOnboardingStepDocument,
          variables: { input: { step: 1, data: STEP_DATA[1] } },
        });
      },
      until: (data) => data.onboardingProgress.currentStep === 2,
    },
  );
  assert.equal(progress.error, undefined);
  assert.deepEqual(
    progress.results.map((data) => data.onboardingProgress.currentStep),
    [1, 2],
  );
  console.log("apollo: a step completed by another client through the other process was pushed");

  // 3. An expired token is refused in connection_init.
  const expiredAt = Math.floor(Date.now() / 1000) - 3600;
  const stale = apolloClient(first, second, () => issuer.mint(USER, { exp: expiredAt }), 0);
  const refused = await collect(stale, ProgressUpdatesDocument, {});
  assert.deepEqual(refused.results, []);
  assert.equal(
    refused.error?.message,
    "Socket closed with event 4403 Forbidden: invalid bearer token: token expired",
  );
  console.log(`apollo: an expired token was refused (${refused.error?.message})`);
  guard.assertSilent("apollo subscriptions");
} finally {
  guard.restore();
  await processes.stop();
}
