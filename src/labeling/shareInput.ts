/** A percentage typed by the user as a fraction in [0, 1], or null. */
export function parseShare(text: string): number | null {
  const t = text.trim().replace(/%$/, '');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  return n >= 0 && n <= 100 ? n / 100 : null;
}
