/**
 * The one rounding helper: `x` to `digits` decimal places, by the decimal value
 * of the double (toFixed), so 1.115 → 1.11 as printed, never 1.12. Pure.
 */
export function roundTo(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}
