import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { loadTracing, runTraced } from './trace-context.js';

const info = { name: 'orders process', topic: 'orders', messageId: 'a/1/1', attempt: 1 };

describe('runTraced', () => {
  afterAll(() => trace.disable());

  it('makes no span while no SDK is registered, and a consumer span once one is', async () => {
    await loadTracing();
    const getTracer = jest.spyOn(trace, 'getTracer');
    // The API is installed but nothing is registered: the handler runs bare.
    expect(await runTraced({}, info, () => Promise.resolve(7))).toBe(7);
    expect(getTracer).not.toHaveBeenCalled();

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    expect(await runTraced({}, info, () => Promise.resolve(8))).toBe(8);
    expect(getTracer).toHaveBeenCalledTimes(1);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['orders process']);
  });
});
