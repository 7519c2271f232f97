/**
 * aws-cdk-lib's classes declare some optional members as `T | undefined` where their interfaces say
 * `T?`; under `exactOptionalPropertyTypes` TypeScript then refuses to assign a class instance to the
 * interface it implements. `asInterface` states that (true) relation in one place.
 */
export function asInterface<I>(value: I | object): I {
  return value as I;
}
