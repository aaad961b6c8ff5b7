import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '#functions/api/admin.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { memoryStores } from '#test/fixtures/memory-stores.ts';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('Powertools metrics on every handler', () => {
  it('flushes an invocation that recorded no metric without the empty-metrics warning', async () => {
    const lines: string[] = [];
    // Powertools writes through its own Console on the process streams.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => lines.push(String(chunk)) > 0);
    }
    const { logger } = await import('#functions/platform/observability.ts');
    logger.setLogLevel('DEBUG');
    const res = await createHandler(memoryStores())(
      anHttpEvent('GET', '/admin/leads/ld-00000000000000000000', {
        pathParameters: { leadId: 'ld-00000000000000000000' },
      }),
      aLambdaContext(),
    );
    logger.setLogLevel('SILENT');
    expect(res.statusCode).toBe(404);
    expect(lines.join('\n')).toContain('request rejected');
    expect(lines.join('\n')).not.toContain('No application metrics');
  });
});
