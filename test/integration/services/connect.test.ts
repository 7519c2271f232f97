/**
 * Kafka Connect runs both Debezium PostgreSQL connectors (JSON with and without schemas).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

describe('kafka connect with debezium', () => {
  beforeAll(() => requireServices('connect'));

  it('has both connectors and their tasks RUNNING', async () => {
    const res = await fetch(`${serviceEnv('CDC_CACHE_CONNECT_URL')}/connectors?expand=status&expand=info`);
    expect(res.ok).toBe(true);
    const body = (await res.json()) as Record<
      string,
      {
        status: { connector: { state: string }; tasks: { state: string }[] };
        info: { config: Record<string, string> };
      }
    >;
    for (const [name, prefix, schemas] of [
      ['cdc-pg-schema', serviceEnv('CDC_CACHE_DEBEZIUM_SCHEMA_PREFIX'), 'true'],
      ['cdc-pg-plain', serviceEnv('CDC_CACHE_DEBEZIUM_PLAIN_PREFIX'), 'false'],
    ] as const) {
      const c = body[name];
      expect(c?.status.connector.state).toBe('RUNNING');
      expect(c?.status.tasks.map((t) => t.state)).toEqual(['RUNNING']);
      expect(c?.info.config['topic.prefix']).toBe(prefix);
      expect(c?.info.config['value.converter.schemas.enable']).toBe(schemas);
    }
  });
});
