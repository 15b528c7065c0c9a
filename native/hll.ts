// HyperLogLog estimate from the kernel's registers (Flajolet et al. 2007,
// with linear counting for small cardinalities).

export function estimateDistinct(registers: Uint8Array): number {
  const m = registers.length;
  let sum = 0;
  let zeros = 0;
  for (const r of registers) {
    sum += 2 ** -r;
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
