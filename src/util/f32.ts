/**
 * float32 helpers. TF 2.4 stores every hyperparameter in a float32 variable and
 * computes per-step coefficients in float32, so the optimizer rounds exactly where
 * TF does. Rounding a double result of one IEEE operation on float32 inputs gives
 * the correctly rounded float32 result (+, -, *, /, sqrt: 53 >= 2*24 + 2 bits).
 */
export const f32 = Math.fround;

/** The smallest epsilon Keras accepts: `epsilon or backend.epsilon()`. */
export const BACKEND_EPSILON = 1e-7;

/**
 * Why a finite hyperparameter cannot be used as the float32 TF computes with,
 * or null: beyond float32's range (it becomes ±Infinity), or a non-zero value
 * that rounds to 0. Said after the value in messages: "`epsilon` = 1e-300 …".
 */
export function float32Problem(value: number): string | null {
  const r = Math.fround(value);
  if (!Number.isFinite(r)) return "is beyond float32's range (about ±3.4e38), which TF computes in";
  if (r === 0 && value !== 0) return 'rounds to 0 in float32, which TF computes in';
  return null;
}
