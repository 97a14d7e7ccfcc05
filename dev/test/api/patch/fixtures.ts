// Test helpers shared by the patch tests: frozen inputs (a patch function that modifies its
// arguments throws) and a check that a result shares no object with its inputs.

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** The objects and lists reachable from `value`. */
function containers(value: unknown, into = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null) {
    into.add(value);
    for (const item of Object.values(value)) containers(item, into);
  }
  return into;
}

/** Whether `result` holds an object or list that is also reachable from one of `inputs`. */
export function sharesObjects(result: unknown, ...inputs: unknown[]): boolean {
  const mine = containers(result);
  return inputs.some((input) => [...containers(input)].some((object) => mine.has(object)));
}
