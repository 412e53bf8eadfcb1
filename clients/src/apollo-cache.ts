/**
 * Apollo Client 4 with its defaults (a bare `InMemoryCache`: no typePolicies,
 * no possibleTypes, no refetchQueries) against `onboarding-api serve`. Run
 * with `node --conditions=development` so Apollo's development build prints
 * its cache warnings; any console warning or error fails the check.
 *
 * 1. the viewer's onboarding → complete step 1 → the viewer query read back
 *    with `cache-only` shows step 1 COMPLETED and currentStep 2, no request;
 * 2. two watched queries selecting different fields of `viewer.onboarding`
 *    do not refetch each other;
 * 3. a discovery, then the same discovery through `node` with other fields of
 *    its values, then the first query from the cache: nothing lost.
 *
 * Then a control, so a check that cannot see stale data or warnings cannot
 * pass: flows 1 and 2 with `id` left out of the progress and its steps (all v1
 * could offer) must read stale data, refetch, and print Apollo's "Cache data
 * may be lost" warning.
 */
import { strict as assert } from "node:assert";
import { visit } from "graphql";
import { ApolloClient, type DocumentNode, HttpLink, InMemoryCache, gql } from "@apollo/client/core";
import { loadDevMessages, loadErrorMessages } from "@apollo/client/dev";
import { guardConsole } from "./support/console-guard.js";
import { inlineFragments, sharedOperations } from "./support/documents.js";
import { STEP_DATA, WEBSITE, settle, signedFetch } from "./support/onboarding.js";
import { type Service, startService } from "./support/service.js";

const USER = "user_2apollocache";

const { VIEWER, COMPLETE_STEP, HEADER, STEPPER, DISCOVER, HISTORY } = sharedOperations(gql);

const DISCOVERY_DETAILS = gql`
  query DiscoveryDetails($id: ID!) {
    node(id: $id) {
      id
      ... on CompetitorDiscovery {
        competitors {
          id
          title
          summary
        }
        socialMediaAccounts {
          id
          linkedin
        }
        socialMediaCitations {
          id
          title
        }
        researchSummary {
          id
          competitiveLandscape
          keyFindings
        }
      }
    }
  }
`;

interface Progress {
  id: string;
  currentStep: number;
  steps: { id: string; number: number; status: string }[];
}

function newClient(service: Service, user = USER): { client: ApolloClient; requests: () => number } {
  const signed = signedFetch(service, user, "apollo-cache-check");
  const client = new ApolloClient({
    link: new HttpLink({ uri: service.graphqlUrl, fetch: signed.fetch }),
    cache: new InMemoryCache(),
  });
  return { client, requests: signed.requests };
}

/** The document without `id` under `onboarding`/`progress`: what clients could ask in v1. */
function withoutProgressIds(document: DocumentNode): DocumentNode {
  let depth = 0;
  return visit(inlineFragments(document), {
    Field: {
      enter(node) {
        if (node.name.value === "onboarding" || node.name.value === "progress") depth += 1;
        if (depth > 0 && node.name.value === "id") return null;
        return undefined;
      },
      leave(node) {
        if (node.name.value === "onboarding" || node.name.value === "progress") depth -= 1;
      },
    },
  });
}

async function mutationFollowsInPlace(
  service: Service,
  user: string,
  documents: (document: DocumentNode) => DocumentNode,
): Promise<{ progress: Progress | undefined; requests: number }> {
  const { client, requests } = newClient(service, user);
  const before = await client.query<{ viewer: { onboarding: Progress } }>({ query: documents(VIEWER) });
  assert.equal(before.data?.viewer.onboarding.currentStep, 1);
  const completed = await client.mutate({
    mutation: documents(COMPLETE_STEP),
    variables: { input: { step: 1, data: STEP_DATA[1] } },
  });
  assert.deepEqual(
    (completed.data as { completeOnboardingStep: { userErrors: unknown[] } }).completeOnboardingStep
      .userErrors,
    [],
  );
  const after = await client.query<{ viewer: { onboarding: Progress } }>({
    query: documents(VIEWER),
    fetchPolicy: "cache-only",
  });
  client.stop();
  return { progress: after.data?.viewer.onboarding, requests: requests() };
}

async function neighbours(
  service: Service,
  user: string,
  documents: (document: DocumentNode) => DocumentNode,
): Promise<{ requests: number; results: Record<string, number> }> {
  const { client, requests } = newClient(service, user);
  const results: Record<string, number> = { header: 0, stepper: 0 };
  const first = (name: string, query: typeof HEADER) =>
    new Promise<{ unsubscribe(): void }>((done, fail) => {
      const subscription = client.watchQuery({ query: documents(query) }).subscribe({
        next: (result) => {
          if (result.dataState !== "complete") return;
          results[name] = (results[name] ?? 0) + 1;
          done(subscription);
        },
        error: fail,
      });
    });
  const header = await first("header", HEADER);
  const stepper = await first("stepper", STEPPER);
  await settle();
  header.unsubscribe();
  stepper.unsubscribe();
  client.stop();
  return { requests: requests(), results };
}

async function discoveryValuesMerge(service: Service): Promise<void> {
  const { client, requests } = newClient(service);
  const made = await client.mutate({
    mutation: DISCOVER,
    variables: { input: { userUrl: WEBSITE, numResults: 5 } },
  });
  const discovery = (made.data as { discoverCompetitors: { discovery: { id: string } | null } })
    .discoverCompetitors.discovery;
  assert.ok(discovery, "the catalog finds competitors");
  await client.query({ query: HISTORY });
  await client.query({ query: DISCOVERY_DETAILS, variables: { id: discovery.id } });
  assert.equal(requests(), 3);
  const history = await client.query<{ competitorDiscoveries: { totalCount: number; edges: unknown[] } }>({
    query: HISTORY,
    fetchPolicy: "cache-only",
  });
  assert.equal(history.data?.competitorDiscoveries.totalCount, 1);
  const details = await client.query({
    query: DISCOVERY_DETAILS,
    variables: { id: discovery.id },
    fetchPolicy: "cache-only",
  });
  assert.ok(details.data, "both selections of the discovery's values are in the cache together");
  assert.equal(requests(), 3);
  client.stop();
}

async function control(service: Service): Promise<number> {
  const user = `${USER}-control`;
  const quiet = guardConsole({ echo: false });
  let refetching: { requests: number };
  let stale: { progress: Progress | undefined };
  try {
    stale = await mutationFollowsInPlace(service, user, withoutProgressIds);
    refetching = await neighbours(service, user, withoutProgressIds);
  } finally {
    quiet.restore();
  }
  assert.equal(stale.progress?.currentStep, 1, "control: without ids the cached progress stays stale");
  assert.ok(
    refetching.requests > 2,
    `control: without ids the queries refetch each other (${refetching.requests})`,
  );
  const lost = quiet.printed.filter((line) => line.includes("Cache data may be lost"));
  assert.ok(
    lost.length > 0,
    `control: without ids Apollo must warn; it printed ${JSON.stringify(quiet.printed)}`,
  );
  return lost.length;
}

loadDevMessages();
loadErrorMessages();
const service = await startService();
try {
  const guard = guardConsole();
  try {
    const followed = await mutationFollowsInPlace(service, USER, (document) => document);
    assert.ok(followed.progress, "the viewer query is complete in the cache");
    assert.equal(followed.progress.currentStep, 2);
    assert.equal(followed.progress.steps[0]?.status, "COMPLETED");
    assert.equal(followed.requests, 2, "read back from the cache, with no request");
    const side = await neighbours(service, USER, (document) => document);
    assert.equal(side.requests, 2, `one request per query, none for refetches: ${side.requests}`);
    assert.deepEqual(side.results, { header: 1, stepper: 1 }, "neither query was answered again");
    await discoveryValuesMerge(service);
  } finally {
    guard.restore();
  }
  guard.assertSilent("apollo");
  const warned = await control(service);
  console.log(
    "apollo client 4 (InMemoryCache defaults): completeOnboardingStep updates viewer.onboarding in place " +
      "(cache-only: step 1 COMPLETED, currentStep 2, no request); neighbouring queries: 2 requests, no refetch; " +
      `discovery values merge; warnings: none (control without ids: stale, refetched, ${warned} warning(s))`,
  );
} catch (error) {
  console.error(service.log());
  throw error;
} finally {
  await service.stop();
}
