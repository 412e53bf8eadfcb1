/**
 * The operations both normalized-cache checks run (apollo-cache.ts, urql-cache.ts).
 * Each check parses them with its own client's `gql`, as an app using that client
 * would: `const { VIEWER, ... } = sharedOperations(gql)`.
 */

const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer {
      id
      onboarding {
        id
        currentStep
        completionPercentage
        steps {
          id
          number
          status
        }
      }
    }
  }
`;

const COMPLETE_STEP = /* GraphQL */ `
  mutation CompleteStep($input: CompleteOnboardingStepInput!) {
    completeOnboardingStep(input: $input) {
      step {
        id
        status
      }
      progress {
        id
        currentStep
        completionPercentage
        steps {
          id
          number
          status
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

const HEADER = /* GraphQL */ `
  query Header {
    viewer {
      id
      onboarding {
        id
        currentStep
      }
    }
  }
`;

const STEPPER = /* GraphQL */ `
  query Stepper {
    viewer {
      id
      onboarding {
        id
        isCompleted
        steps {
          id
          locked
          title
        }
      }
    }
  }
`;

const DISCOVER = /* GraphQL */ `
  mutation Discover($input: DiscoverCompetitorsInput!) {
    discoverCompetitors(input: $input) {
      discovery {
        id
        userUrl
        competitors {
          id
          domain
          relevanceScore
        }
        socialMediaAccounts {
          id
          twitter
        }
        socialMediaCitations {
          id
          url
        }
        researchSummary {
          id
          totalCompetitors
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

const HISTORY = /* GraphQL */ `
  query History {
    competitorDiscoveries(first: 5) {
      totalCount
      edges {
        cursor
        node {
          id
          userUrl
          competitors {
            id
            title
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
            keyFindings
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** The shared operations, each parsed by `gql`. */
export function sharedOperations<Document>(gql: (source: string) => Document) {
  return {
    VIEWER: gql(VIEWER),
    COMPLETE_STEP: gql(COMPLETE_STEP),
    HEADER: gql(HEADER),
    STEPPER: gql(STEPPER),
    DISCOVER: gql(DISCOVER),
    HISTORY: gql(HISTORY),
  };
}
