// Typed client code for every operation of examples/, from the checked-in schema: if an example
// stops matching the schema, generation fails. Output goes to generated/ (not checked in).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: '../../examples/*.graphql',
  generates: {
    'generated/operations.ts': {
      plugins: ['typescript', 'typescript-operations'],
      config: {
        scalars: { PartialDate: 'string', DateTime: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        strictScalars: true,
      },
    },
  },
  silent: true,
};

export default config;
