/**
 * Compiled by `tsc --noEmit`, never run: the generated types let through what
 * the schema allows and stop what it does not. Each `@ts-expect-error` fails
 * the compile if the line it guards ever type-checks.
 */
import type {
  CompleteOnboardingStepMutationVariables,
  DiscoverCompetitorsInput,
  DiscoverCompetitorsLegacyMutation,
  OnboardingProgressQuery,
  OnboardingStepStatus,
} from "./generated/graphql.js";

export const newClient: DiscoverCompetitorsInput = { userUrl: "https://acme.com", numResults: 10 };
// An old client may still send sessionId (deprecated, so editors strike it through).
export const oldClient: DiscoverCompetitorsInput = { userUrl: "acme.com", sessionId: "s-1" };

// @ts-expect-error userUrl is required
export const noUrl: DiscoverCompetitorsInput = { numResults: 10 };

export const step3: CompleteOnboardingStepMutationVariables = {
  input: { step: 3, discoveryId: "Q29tcGV0aXRvckRpc2NvdmVyeTox" },
};
// @ts-expect-error step is an Int
export const wrongStep: CompleteOnboardingStepMutationVariables = { input: { step: "3" } };

export function currentStepTitle(progress: OnboardingProgressQuery): string | undefined {
  const { currentStep, steps } = progress.onboardingProgress;
  return steps.find((step) => step.number === currentStep)?.title;
}

export function isDone(status: OnboardingStepStatus): boolean {
  // @ts-expect-error "DONE" is no OnboardingStepStatus
  if (status === "DONE") return true;
  return status === "COMPLETED" || status === "SKIPPED";
}

export function legacySession(payload: DiscoverCompetitorsLegacyMutation): string | null {
  // Nullable in the schema, so the compiler makes the caller handle null.
  return payload.discoverCompetitors.sessionId;
}
