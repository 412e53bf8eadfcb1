/**
 * The frontend's onboarding flow, end to end, as its GraphQL client sends it:
 * graphql-request with the generated typed documents, a fresh RS256 token per
 * request from a JWKS issuer on 127.0.0.1, against `onboarding-api serve`.
 *
 * progress → steps 1 and 2 → discovery as an old client (with sessionId) →
 * discovery as a new client → step 3 from the discoveryId → step 4 current.
 */
import { strict as assert } from "node:assert";
import { GraphQLClient } from "graphql-request";
import {
  CompleteOnboardingStepDocument,
  type CompleteOnboardingStepMutation,
  DiscoverCompetitorsDocument,
  DiscoverCompetitorsLegacyDocument,
  LegacyOnboardingProgressDocument,
  OnboardingProgressDocument,
} from "./generated/graphql.js";
import { STEP_DATA, WEBSITE } from "./support/onboarding.js";
import { type Service, startService } from "./support/service.js";

const USER = "user_2frontendflow";

function clientFor(service: Service, name: string): GraphQLClient {
  return new GraphQLClient(service.graphqlUrl, {
    headers: { "graphql-client-name": name },
    // Session tokens live 60 seconds, so the frontend asks its identity
    // provider for one per request; so does this client.
    requestMiddleware: async (request) => ({
      ...request,
      headers: {
        ...Object.fromEntries(new Headers(request.headers).entries()),
        authorization: `Bearer ${await service.issuer.mint(USER)}`,
      },
    }),
  });
}

function assertCompleted(payload: CompleteOnboardingStepMutation, step: number): void {
  const result = payload.completeOnboardingStep;
  assert.deepEqual(result.userErrors, [], `step ${step}: ${JSON.stringify(result.userErrors)}`);
  assert.equal(result.step?.status, "COMPLETED");
}

const service = await startService();
try {
  const frontend = clientFor(service, "onboarding-frontend");
  const legacyFrontend = clientFor(service, "onboarding-frontend-legacy");

  const fresh = await frontend.request(OnboardingProgressDocument);
  assert.equal(fresh.onboardingProgress.currentStep, 1);
  assert.equal(fresh.onboardingProgress.steps.length, 6);
  const legacyRead = await legacyFrontend.request(LegacyOnboardingProgressDocument, {
    sessionId: "session-from-the-old-rest-api",
  });
  assert.equal(legacyRead.onboardingProgress.currentStep, 1, "sessionId is ignored");

  for (const step of [1, 2] as const) {
    assertCompleted(
      await frontend.request(CompleteOnboardingStepDocument, { input: { step, data: STEP_DATA[step] } }),
      step,
    );
  }

  const legacy = await legacyFrontend.request(DiscoverCompetitorsLegacyDocument, {
    input: { sessionId: "session-from-the-old-rest-api", userUrl: WEBSITE, numResults: 5 },
  });
  assert.deepEqual(legacy.discoverCompetitors.userErrors, []);
  assert.equal(legacy.discoverCompetitors.sessionId, USER, "the deprecated sessionId is the viewer");
  const first = legacy.discoverCompetitors.discovery;
  assert.ok(first && first.competitors.length > 0, "the catalog finds competitors");
  assert.equal(first.provider, "catalog");

  const current = await frontend.request(DiscoverCompetitorsDocument, {
    input: { userUrl: WEBSITE, numResults: 5 },
  });
  assert.deepEqual(current.discoverCompetitors.userErrors, []);
  const second = current.discoverCompetitors.discovery;
  assert.ok(second, "a new client gets a discovery too");
  assert.equal(second.id, first.id, "the same request within 24 h is the stored discovery");
  assert.equal(second.cached, true);

  const step3 = await frontend.request(CompleteOnboardingStepDocument, {
    input: { step: 3, discoveryId: second.id },
  });
  assertCompleted(step3, 3);

  const after = await frontend.request(OnboardingProgressDocument);
  assert.equal(after.onboardingProgress.currentStep, 4);
  assert.equal(after.onboardingProgress.completionPercentage, 50);
  console.log(
    `frontend flow: progress → steps 1, 2 → discovery ${second.id} (legacy, then cached) → ` +
      `step 3 → current step ${after.onboardingProgress.currentStep}`,
  );
} catch (error) {
  console.error(service.log());
  throw error;
} finally {
  await service.stop();
}
