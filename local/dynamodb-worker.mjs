// The DynamoDB thread's entry: plain JS, so it starts the same under tsx, vitest or node; it loads the
// TypeScript that runs dynalite and its edge (local/dynamodb-thread.ts) through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./dynamodb-thread.ts', import.meta.url);
