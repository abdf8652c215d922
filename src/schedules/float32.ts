/**
 * float32 arithmetic for the schedules. TF 2.4 casts the step and every argument
 * to the dtype of `initial_learning_rate` (float32 for a Python float) and rounds
 * after each op, so each helper rounds its result. For +, −, ×, ÷ and sqrt of
 * float32 inputs the rounded double result is the correctly rounded float32 one;
 * for pow, log and cos it is within an ulp of what TF's kernels give.
 */
import { f32 } from '../util/f32.js';

export { f32 };

/** `constant_op.constant(math.pi)`: π rounded to float32 (3.14159274…, above π). */
export const PI_F32 = f32(Math.PI);

export const add = (a: number, b: number): number => f32(a + b);
export const sub = (a: number, b: number): number => f32(a - b);
export const mul = (a: number, b: number): number => f32(a * b);
export const div = (a: number, b: number): number => f32(a / b);
export const pow = (a: number, b: number): number => f32(Math.pow(a, b));
export const cos = (a: number): number => f32(Math.cos(a));
export const log = (a: number): number => f32(Math.log(a));
export const sqrt = (a: number): number => f32(Math.sqrt(a));

/** `0.5 · (1 + cos(π · fraction))` in float32, the shared cosine factor. */
export function halfCosine(fraction: number): number {
  return mul(0.5, add(1, cos(mul(PI_F32, fraction))));
}
