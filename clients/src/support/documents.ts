/**
 * The operations both normalized-cache checks run (apollo-cache.ts, urql-cache.ts).
 * Each check parses them with its own client's `gql`, as an app using that client
 * would: `const { VIEWER, ... } = sharedOperations(gql)`.
 */
import { type DocumentNode, type FragmentDefinitionNode, type InlineFragmentNode, Kind, visit } from "graphql";

/**
 * The progress as the wizard shows it: the viewer query reads it and
 * completeOnboardingStep answers it, so a normalized cache updates the one in place.
 */
const ONBOARDING_PROGRESS = /* GraphQL */ `
  fragment OnboardingProgressFields on OnboardingProgress {
    id
    currentStep
    completionPercentage
    steps {
      id
      number
      status
    }
  }
`;

const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer {
      id
      onboarding {
        ...OnboardingProgressFields
      }
    }
  }
  ${ONBOARDING_PROGRESS}
`;

const COMPLETE_STEP = /* GraphQL */ `
  mutation CompleteStep($input: CompleteOnboardingStepInput!) {
    completeOnboardingStep(input: $input) {
      progress {
        ...OnboardingProgressFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
  ${ONBOARDING_PROGRESS}
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

/**
 * The document with each fragment spread replaced by its fragment's selections,
 * for the controls, which take fields out by where they stand.
 */
export function inlineFragments(document: DocumentNode): DocumentNode {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return visit(document, {
    FragmentDefinition: () => null,
    // What enter returns is visited in turn, so spreads inside the fragment are inlined too.
    FragmentSpread(spread): InlineFragmentNode {
      const fragment = fragments.get(spread.name.value);
      if (!fragment) throw new Error(`no fragment ${spread.name.value} in the document`);
      return {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: fragment.typeCondition,
        directives: spread.directives ?? [],
        selectionSet: fragment.selectionSet,
      };
    },
  });
}

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
