/**
 * The conformance suite (test/support/conformance) against all five targets: the engine in-process, the
 * engine over RESP, Valkey standalone, the Valkey 3-master cluster and Valkey with TLS + an ACL user.
 * Valkey services come from infra/local; an unavailable one fails its target's tests.
 */
import { describeConformance } from '../../support/conformance/suite.ts';
import { CONFORMANCE_TARGETS } from '../../support/conformance/targets.ts';

for (const target of CONFORMANCE_TARGETS) describeConformance(target);
