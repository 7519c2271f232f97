/**
 * The kafkajs 2.2.4 RequestQueue timer fix (consumers/kafka/kafkajs-client.ts): unpatched, every
 * response armed `setTimeout(…, -1 - Date.now())` (Node 24: TimeoutNegativeWarning). The real
 * kafkajs class is exercised; no broker needed (nothing is sent).
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { patchKafkajsRequestQueue } from '../../../../consumers/kafka/kafkajs-client.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (
  o: object,
) => Queue;
const noop = () => {};
const logger = { debug: noop, info: noop, warn: noop, error: noop };
const queues: Queue[] = [];
function queue(): Queue {
  const q = new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    clientId: 't',
    broker: 'b',
    logger,
  });
  queues.push(q);
  return q;
}

describe('kafkajs RequestQueue timer fix', () => {
  afterEach(() => {
    for (const q of queues.splice(0)) q.destroy();
  });

  it('is installed (idempotently) when the adapter is imported', () => {
    expect(patchKafkajsRequestQueue()).toBe(true);
    expect(patchKafkajsRequestQueue()).toBe(true);
  });

  it('arms no timer when nothing is pending (the case that warned with a negative delay)', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const q = queue();
    q.checkPendingRequests(); // what every fulfilled response does
    expect(q.throttleCheckTimeoutId).toBeNull();
    process.off('warning', onWarning);
    expect(warnings).not.toContain('TimeoutNegativeWarning');
  });

  it('still checks pending requests: after the throttle ends, or after 10 ms when waiting for a slot', async () => {
    const q = queue();
    let checks = 0;
    q.checkPendingRequests = () => {
      checks++;
    };
    q.pending.push({});
    q.throttledUntil = Date.now() + 30;
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    q.scheduleCheckPendingRequests(); // one timer at a time
    await new Promise((r) => setTimeout(r, 80));
    expect(checks).toBe(1);
    q.throttledUntil = -1;
    q.scheduleCheckPendingRequests();
    await new Promise((r) => setTimeout(r, 40));
    expect(checks).toBe(2);
  });
});
