// HyperLogLog estimate from the kernel's registers (Flajolet et al. 2007,
// with linear counting for small cardinalities).

/** 2^-r for every value a register can hold: the agent estimates twice per snapshot, ten times a second, over 4,096 registers, and Math.pow there was 5 % of its CPU in a flood. */
const INVERSE_POWERS = Float64Array.from({ length: 256 }, (_, r) => 2 ** -r);

export function estimateDistinct(registers: Uint8Array): number {
  const m = registers.length;
  let sum = 0;
  let zeros = 0;
  for (const r of registers) {
    sum += INVERSE_POWERS[r]!;
    if (r === 0) zeros++;
  }
  const alpha = 0.7213 / (1 + 1.079 / m);
  const raw = (alpha * m * m) / sum;
  if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  return Math.round(raw);
}

/** Merges `regs` into `into` register by register (the estimate of the result is that of the union of both sets). */
export function mergeRegisters(into: Uint8Array, regs: Uint8Array): void {
  for (let i = 0; i < regs.length; i++) if (regs[i]! > into[i]!) into[i] = regs[i]!;
}
