/**
 * The file shard lease store (one directory, two workers' views of it) against the balancing
 * contract: heartbeats, holders, steal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createFileLeaseStore } from '../../../consumers/dynamodb/file-lease-store.ts';
import { leaseBalancingContract } from '../../support/lease-balancing-contract.ts';

describe('file lease store: balancing capabilities', () => {
  leaseBalancingContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-leases-'));
    return { a: await createFileLeaseStore({ dir }), b: await createFileLeaseStore({ dir }) };
  });
});
