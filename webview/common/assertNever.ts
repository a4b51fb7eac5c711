/**
 * The end of an exhaustive `switch` over a message union: a compile error when a case is missing.
 * At run time a message of an unknown type (a host newer than the view) is ignored.
 */
export function assertNever(value: never): void {
  void value;
}
