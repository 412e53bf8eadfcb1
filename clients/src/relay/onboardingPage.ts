/**
 * The onboarding page's GraphQL, as a Relay app writes it. relay-compiler reads
 * these tags and writes `__generated__/`; nothing imports this module at run
 * time (the tags only work through the Babel plugin): `relay-store.ts` uses
 * the generated artifacts directly.
 */
import { graphql } from "relay-runtime";

export const page = graphql`
  query onboardingPageQuery {
    viewer {
      ...onboardingPage_viewer
      onboarding {
        ...onboardingPage_progress
      }
    }
    competitorDiscoveries(first: 5) @connection(key: "onboardingPage_competitorDiscoveries") {
      totalCount
      edges {
        node {
          ...onboardingPage_discovery
        }
      }
    }
  }
`;

/** Relay's special case: a refetchable fragment on `Viewer` refetches through `Query.viewer`. */
export const viewer = graphql`
  fragment onboardingPage_viewer on Viewer @refetchable(queryName: "onboardingPageViewerRefetchQuery") {
    id
    email
  }
`;

export const progress = graphql`
  fragment onboardingPage_progress on OnboardingProgress
  @refetchable(queryName: "onboardingPageProgressRefetchQuery") {
    currentStep
    completionPercentage
    isCompleted
    steps {
      ...onboardingPage_step
    }
  }
`;

export const step = graphql`
  fragment onboardingPage_step on OnboardingStep @refetchable(queryName: "onboardingPageStepRefetchQuery") {
    number
    status
    locked
  }
`;

export const discovery = graphql`
  fragment onboardingPage_discovery on CompetitorDiscovery
  @refetchable(queryName: "onboardingPageDiscoveryRefetchQuery") {
    userUrl
    competitors {
      domain
      title
    }
    socialMediaAccounts {
      twitter
    }
    socialMediaCitations {
      url
      title
    }
    researchSummary {
      totalCompetitors
    }
  }
`;

export const node = graphql`
  query onboardingPageNodeQuery($id: ID!) {
    node(id: $id) {
      __typename
      ... on OnboardingStep {
        number
        status
      }
    }
  }
`;

export const completeStep = graphql`
  mutation onboardingPageCompleteStepMutation($input: CompleteOnboardingStepInput!) {
    completeOnboardingStep(input: $input) {
      step {
        ...onboardingPage_step
      }
      progress {
        ...onboardingPage_progress
      }
      userErrors {
        ...onboardingPage_userError @relay(mask: false)
      }
    }
  }
`;

/** What the page shows of a refused mutation: spread unmasked, so the mutation's response carries it. */
export const userError = graphql`
  fragment onboardingPage_userError on UserError {
    field
    message
    code
  }
`;

export const discover = graphql`
  mutation onboardingPageDiscoverMutation($input: DiscoverCompetitorsInput!, $connections: [ID!]!) {
    discoverCompetitors(input: $input) {
      discovery @prependNode(connections: $connections, edgeTypeName: "CompetitorDiscoveryEdge") {
        ...onboardingPage_discovery
      }
      userErrors {
        ...onboardingPage_userError @relay(mask: false)
      }
    }
  }
`;

export const discoverEdge = graphql`
  mutation onboardingPageDiscoverEdgeMutation($input: DiscoverCompetitorsInput!, $connections: [ID!]!) {
    discoverCompetitors(input: $input) {
      discoveryEdge @prependEdge(connections: $connections) {
        cursor
        node {
          ...onboardingPage_discovery
        }
      }
      userErrors {
        code
      }
    }
  }
`;

export const reset = graphql`
  mutation onboardingPageResetMutation($connections: [ID!]!) {
    resetOnboarding(input: { hard: true }) {
      progress {
        ...onboardingPage_progress
      }
      deletedDiscoveryIds @deleteEdge(connections: $connections)
      userErrors {
        code
      }
    }
  }
`;
