/**
 * urql with Graphcache, schema-aware from the served process's introspection,
 * and nothing else configured: no `keys`, no `updates`, no `resolvers`. Any
 * console warning (Graphcache's "Invalid key" above all) fails the check.
 *
 * 1. the viewer's onboarding → complete step 1 → the viewer query read back
 *    with `cache-only` shows step 1 COMPLETED and currentStep 2, no request;
 * 2. two queries selecting different fields of `viewer.onboarding` each cost
 *    one request, and each is then answered from the cache;
 * 3. a discovery with its competitors, social accounts, citations and summary,
 *    its history and `node`; a refused step, whose payload carries userErrors.
 *
 * Then a control: flows 1 and 3 with `id` left out under the progress and the
 * discovery (what v1 offered) must print "Invalid key", so a check that cannot
 * see Graphcache's warnings cannot pass.
 */
import { strict as assert } from "node:assert";
import { cacheExchange } from "@urql/exchange-graphcache";
import {
  type DocumentNode,
  type IntrospectionQuery,
  getIntrospectionQuery,
  parse,
  print,
  visit,
} from "graphql";
import { Client, fetchExchange, gql } from "urql";
import { guardConsole } from "./support/console-guard.js";
import { inlineFragments, sharedOperations } from "./support/documents.js";
import { STEP_DATA, WEBSITE, signedFetch } from "./support/onboarding.js";
import { type Service, startService } from "./support/service.js";

const USER = "user_2urqlgraphcache";

// Called, not passed: passing the overloaded gql would type every result's data as {}.
const { VIEWER, COMPLETE_STEP, HEADER, STEPPER, DISCOVER, HISTORY } = sharedOperations((source) => gql(source));

const NODE = gql`
  query Node($id: ID!) {
    node(id: $id) {
      id
      ... on CompetitorDiscovery {
        domain
        researchSummary {
          id
          competitiveLandscape
        }
      }
    }
  }
`;

interface Progress {
  currentStep: number;
  steps: { number: number; status: string }[];
}

type Documents = (document: DocumentNode) => DocumentNode;
const asWritten: Documents = (document) => document;

/** The document without any `id` below its root fields' own: all v1 offered. */
const withoutNestedIds: Documents = (document) => {
  let depth = 0;
  // Printed and parsed again: urql sends the source text a document was parsed from.
  return parse(
    print(
      visit(inlineFragments(document), {
        Field: {
          enter(node) {
            if (node.name.value === "id" && depth > 1) return null;
            if (node.selectionSet) depth += 1;
            return undefined;
          },
          leave(node) {
            if (node.selectionSet) depth -= 1;
          },
        },
      }),
    ),
  );
};

async function introspect(service: Service): Promise<IntrospectionQuery> {
  const response = await fetch(service.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  const body = (await response.json()) as { data?: IntrospectionQuery };
  assert.ok(body.data, "the service answers introspection in its default configuration");
  return body.data;
}

function newClient(service: Service, schema: IntrospectionQuery, user: string) {
  const signed = signedFetch(service, user, "urql-graphcache-check");
  const client = new Client({
    url: service.graphqlUrl,
    fetch: signed.fetch,
    exchanges: [cacheExchange({ schema }), fetchExchange],
  });
  return { client, requests: signed.requests };
}

async function onboardingFlow(
  service: Service,
  schema: IntrospectionQuery,
  user: string,
  documents: Documents,
): Promise<{ progress: Progress | undefined; requests: number }> {
  const { client, requests } = newClient(service, schema, user);
  const before = await client.query(documents(VIEWER), {}).toPromise();
  assert.equal(before.error, undefined, String(before.error));
  assert.equal(before.data?.viewer.onboarding.currentStep, 1);
  const completed = await client
    .mutation(documents(COMPLETE_STEP), { input: { step: 1, data: STEP_DATA[1] } })
    .toPromise();
  assert.deepEqual(completed.data?.completeOnboardingStep.userErrors, []);
  const after = await client.query(documents(VIEWER), {}, { requestPolicy: "cache-only" }).toPromise();
  return { progress: after.data?.viewer.onboarding as Progress | undefined, requests: requests() };
}

async function neighbours(service: Service, schema: IntrospectionQuery): Promise<void> {
  const { client, requests } = newClient(service, schema, `${USER}-neighbours`);
  await client.query(HEADER, {}).toPromise();
  await client.query(STEPPER, {}).toPromise();
  const header = await client.query(HEADER, {}).toPromise();
  const stepper = await client.query(STEPPER, {}).toPromise();
  assert.equal(header.data?.viewer.onboarding.currentStep, 1);
  assert.equal(stepper.data?.viewer.onboarding.steps.length, 6);
  assert.equal(requests(), 2, `one request per query, then both from the cache: ${requests()}`);
}

async function discoveryFlow(
  service: Service,
  schema: IntrospectionQuery,
  user: string,
  documents: Documents,
): Promise<number> {
  const { client, requests } = newClient(service, schema, user);
  const made = await client
    .mutation(documents(DISCOVER), { input: { userUrl: WEBSITE, numResults: 5 } })
    .toPromise();
  const discovery = made.data?.discoverCompetitors.discovery as { id: string; competitors: unknown[] } | null;
  assert.ok(discovery && discovery.competitors.length > 0, "the catalog finds competitors");
  const history = await client.query(documents(HISTORY), {}).toPromise();
  assert.equal(history.data?.competitorDiscoveries.totalCount, 1);
  const found = await client.query(documents(NODE), { id: discovery.id }).toPromise();
  assert.equal(found.data?.node.id, discovery.id);
  const refused = await client
    .mutation(documents(COMPLETE_STEP), { input: { step: 2, data: {} } })
    .toPromise();
  assert.equal(refused.data?.completeOnboardingStep.userErrors[0]?.code, "VALIDATION_FAILED");
  return requests();
}

const service = await startService();
try {
  const schema = await introspect(service);
  const guard = guardConsole();
  try {
    const followed = await onboardingFlow(service, schema, USER, asWritten);
    assert.ok(followed.progress, "the viewer query is complete in the cache");
    assert.equal(followed.progress.currentStep, 2);
    assert.equal(followed.progress.steps[0]?.status, "COMPLETED");
    assert.equal(followed.requests, 2, "read back from the cache, with no request");
    await neighbours(service, schema);
    assert.equal(await discoveryFlow(service, schema, USER, asWritten), 4);
  } finally {
    guard.restore();
  }
  guard.assertSilent("urql graphcache");

  const quiet = guardConsole({ echo: false });
  try {
    await onboardingFlow(service, schema, `${USER}-control`, withoutNestedIds);
    await discoveryFlow(service, schema, `${USER}-control`, withoutNestedIds);
  } finally {
    quiet.restore();
  }
  const invalid = quiet.printed.filter((line) => line.includes("Invalid key"));
  const named = new Set(invalid.map((line) => /for `(\w+)`/.exec(line)?.[1]));
  for (const type of [
    "OnboardingProgress",
    "OnboardingStep",
    "Competitor",
    "SocialMediaAccounts",
    "ResearchSummary",
  ]) {
    assert.ok(
      named.has(type),
      `control: without ids Graphcache must warn about ${type}; it named ${[...named].join(", ")}`,
    );
  }
  console.log(
    "urql + graphcache (schema-aware, no keys): completeOnboardingStep updates viewer.onboarding " +
      "(cache-only: step 1 COMPLETED, currentStep 2, no request); neighbouring queries: 2 requests; " +
      `discovery values, history, node, userErrors; warnings: none (control without ids: ${invalid.length} "Invalid key")`,
  );
} catch (error) {
  console.error(service.log());
  throw error;
} finally {
  await service.stop();
}
