/**
 * relay-runtime with a bare store (`new Store(new RecordSource())`, no handlers
 * or missing-field handlers) and the artifacts relay-compiler made from
 * `relay/onboardingPage.ts`, against `onboarding-api serve`. Fragments are
 * read and subscribed to the way `useFragment` does; any console warning or
 * error (Relay's `warning`) fails the check.
 *
 * page query → completeOnboardingStep: the page's progress and step fragments
 * show the new state with no refetch → the step refetched through `node` by its
 * `@refetchable` query → discoverCompetitors with `@prependNode`, then with
 * `@prependEdge`: the connection shows both, newest first, and the cached
 * answer to a repeated request is not added twice → a hard
 * resetOnboarding with `@deleteEdge` on `deletedDiscoveryIds`: gone again.
 */
import { strict as assert } from "node:assert";
import {
  ConnectionHandler,
  Environment,
  type GraphQLResponse,
  type MutationParameters,
  Network,
  type ReaderFragment,
  RecordSource,
  ROOT_ID,
  type SingularReaderSelector,
  Store,
  commitMutation,
  createOperationDescriptor,
  fetchQuery,
  getSelector,
  type GraphQLTaggedNode,
} from "relay-runtime";
import completeStepMutation, {
  type onboardingPageCompleteStepMutation,
} from "./relay/__generated__/onboardingPageCompleteStepMutation.graphql.js";
import discoverEdgeMutation, {
  type onboardingPageDiscoverEdgeMutation,
} from "./relay/__generated__/onboardingPageDiscoverEdgeMutation.graphql.js";
import discoverMutation, {
  type onboardingPageDiscoverMutation,
} from "./relay/__generated__/onboardingPageDiscoverMutation.graphql.js";
import pageQuery, {
  type onboardingPageQuery$data,
} from "./relay/__generated__/onboardingPageQuery.graphql.js";
import resetMutation, {
  type onboardingPageResetMutation,
} from "./relay/__generated__/onboardingPageResetMutation.graphql.js";
import stepRefetchQuery, {
  type onboardingPageStepRefetchQuery,
} from "./relay/__generated__/onboardingPageStepRefetchQuery.graphql.js";
import discoveryFragment, {
  type onboardingPage_discovery$data,
} from "./relay/__generated__/onboardingPage_discovery.graphql.js";
import progressFragment, {
  type onboardingPage_progress$data,
} from "./relay/__generated__/onboardingPage_progress.graphql.js";
import stepFragment, {
  type onboardingPage_step$data,
} from "./relay/__generated__/onboardingPage_step.graphql.js";
import { guardConsole } from "./support/console-guard.js";
import { STEP_DATA, WEBSITE, signedFetch } from "./support/onboarding.js";
import { startService } from "./support/service.js";

const USER = "user_2relaystore";
const CONNECTION_KEY = "onboardingPage_competitorDiscoveries";

/** A fragment's data, kept current the way `useFragment` keeps a component's. */
interface Live<T> {
  readonly data: T;
}

function live<T>(environment: Environment, fragment: ReaderFragment, reference: unknown): Live<T> {
  const snapshot = environment.lookup(getSelector(fragment, reference) as SingularReaderSelector);
  assert.equal(snapshot.isMissingData, false, `${fragment.name}: nothing missing`);
  const current = { data: snapshot.data as T };
  environment.subscribe(snapshot, (next) => {
    current.data = next.data as T;
  });
  return current;
}

function commit<T extends MutationParameters>(
  environment: Environment,
  mutation: GraphQLTaggedNode,
  variables: T["variables"],
): Promise<T["response"]> {
  return new Promise((done, fail) => {
    commitMutation<T>(environment, {
      mutation,
      variables,
      onCompleted: (response, errors) => (errors ? fail(new Error(JSON.stringify(errors))) : done(response)),
      onError: fail,
    });
  });
}

const guard = guardConsole();
const service = await startService();
try {
  const signed = signedFetch(service, USER, "relay-store-check");
  const environment = new Environment({
    network: Network.create(async (params, variables) => {
      const response = await signed.fetch(service.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: params.text, variables, operationName: params.name }),
      });
      return (await response.json()) as GraphQLResponse;
    }),
    store: new Store(new RecordSource()),
  });

  // The page: its query, and the fragments its components read.
  await fetchQuery(environment, pageQuery, {}).toPromise();
  const operation = createOperationDescriptor(pageQuery, {});
  environment.retain(operation);
  const page = environment.lookup(operation.fragment);
  const pageData = { current: page.data as onboardingPageQuery$data };
  environment.subscribe(page, (next) => {
    pageData.current = next.data as onboardingPageQuery$data;
  });
  const progress = live<onboardingPage_progress$data>(
    environment,
    progressFragment,
    pageData.current.viewer.onboarding,
  );
  const firstStep = live<onboardingPage_step$data>(environment, stepFragment, progress.data.steps[0]);
  assert.equal(progress.data.currentStep, 1);
  assert.equal(firstStep.data.status, "PENDING");
  assert.equal(pageData.current.competitorDiscoveries.totalCount, 0);

  // completeOnboardingStep: the page shows it at once, with no refetch.
  const completed = await commit<onboardingPageCompleteStepMutation>(environment, completeStepMutation, {
    input: { step: 1, data: STEP_DATA[1] },
  });
  assert.deepEqual(completed.completeOnboardingStep.userErrors, []);
  assert.equal(progress.data.currentStep, 2, "the page's progress fragment follows the mutation");
  assert.equal(firstStep.data.status, "COMPLETED", "the page's step fragment follows the mutation");
  assert.equal(signed.requests(), 2, "page query and mutation only: no refetch");

  // The step's @refetchable query goes through `node`.
  const refetched = await fetchQuery<onboardingPageStepRefetchQuery>(environment, stepRefetchQuery, {
    id: firstStep.data.id,
  }).toPromise();
  const again = live<onboardingPage_step$data>(environment, stepFragment, refetched?.node);
  assert.deepEqual(again.data, firstStep.data, "the step refetched by id is the step the page shows");

  // discoverCompetitors: @prependNode, then @prependEdge, into the page's connection.
  const connections = [ConnectionHandler.getConnectionID(ROOT_ID, CONNECTION_KEY)];
  const prepended = await commit<onboardingPageDiscoverMutation>(environment, discoverMutation, {
    input: { userUrl: WEBSITE, numResults: 3 },
    connections,
  });
  assert.deepEqual(prepended.discoverCompetitors.userErrors, []);
  const edgeUrl = "https://www.another-little-shop.com";
  await commit<onboardingPageDiscoverEdgeMutation>(environment, discoverEdgeMutation, {
    input: { userUrl: edgeUrl, numResults: 3 },
    connections,
  });
  // The same request again answers the stored discovery (`cached`): already on the page, not added twice.
  const cached = await commit<onboardingPageDiscoverMutation>(environment, discoverMutation, {
    input: { userUrl: WEBSITE, numResults: 3 },
    connections,
  });
  assert.deepEqual(cached.discoverCompetitors.userErrors, []);
  const edges = pageData.current.competitorDiscoveries.edges;
  assert.equal(edges.length, 2, "both discoveries were prepended to the connection, once each");
  const newest = live<onboardingPage_discovery$data>(environment, discoveryFragment, edges[0]?.node);
  const older = live<onboardingPage_discovery$data>(environment, discoveryFragment, edges[1]?.node);
  assert.equal(newest.data.userUrl, `${edgeUrl}/`);
  assert.equal(older.data.userUrl, `${WEBSITE}/`);
  assert.ok(older.data.competitors.length > 0);

  // A hard reset names what it deleted; @deleteEdge takes them off the page.
  const reset = await commit<onboardingPageResetMutation>(environment, resetMutation, { connections });
  assert.equal(reset.resetOnboarding.deletedDiscoveryIds.length, 2);
  assert.equal(
    pageData.current.competitorDiscoveries.edges.length,
    0,
    "the deleted discoveries left the page",
  );
  assert.equal(progress.data.currentStep, 1);
  assert.equal(firstStep.data.status, "PENDING");
  assert.equal(signed.requests(), 7, "one request per operation, no refetch anywhere");

  guard.restore();
  guard.assertSilent("relay");
  console.log(
    "relay-runtime store: completeOnboardingStep shows in the page's fragments with no refetch; " +
      "@refetchable step through node; @prependNode and @prependEdge into the connection; " +
      "@deleteEdge from deletedDiscoveryIds; 7 requests for 7 operations; warnings: none",
  );
} catch (error) {
  guard.restore();
  console.error(service.log());
  throw error;
} finally {
  guard.restore();
  await service.stop();
}
