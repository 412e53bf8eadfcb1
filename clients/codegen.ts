import type { CodegenConfig } from "@graphql-codegen/cli";

// TypeScript for the frontend's real operations, from the committed SDL (the
// public contract), never from a running server.
const config: CodegenConfig = {
  schema: "../schema/schema.graphql",
  documents: ["operations/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "src/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        strictScalars: true,
        scalars: { DateTime: "string", JSON: "unknown" },
        enumsAsTypes: true,
        useTypeImports: true,
        // `./graphql.js`, not `./graphql`: what Node's ESM resolution (and NodeNext) needs.
        emitLegacyCommonJSImports: false,
      },
    },
  },
};

export default config;
