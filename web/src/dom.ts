declare global {
  interface Window {
    /** What the end-to-end test reads: each page's current state. */
    __demoState?: unknown;
  }
}

/** The element with this id, checked to be of the expected class. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) {
    throw new Error(`Expected #${id} to be a ${kind.name}`);
  }
  return element;
}

export function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
  return value.toFixed(digits);
}
