import { el } from '../common/dom';

/** Theme colours as numbers (for pixels) or CSS strings, read from VS Code's CSS variables. */

export function cssColor(name: string, fallback: string): [number, number, number] {
  const probe = el('span');
  probe.style.color = `var(${name}, ${fallback})`;
  document.body.append(probe);
  const m = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) ?? [];
  probe.remove();
  return [Number(m[0] ?? 0), Number(m[1] ?? 0), Number(m[2] ?? 0)];
}

export function cssString(name: string, fallback: string): string {
  const [r, g, b] = cssColor(name, fallback);
  return `rgb(${r},${g},${b})`;
}
