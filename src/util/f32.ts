/**
 * float32 helpers. TF 2.4 stores every hyperparameter in a float32 variable and
 * computes per-step coefficients in float32, so the optimizer rounds exactly where
 * TF does. Rounding a double result of one IEEE operation on float32 inputs gives
 * the correctly rounded float32 result (+, -, *, /, sqrt: 53 >= 2*24 + 2 bits).
 */
export const f32 = Math.fround;

/** The smallest epsilon Keras accepts: `epsilon or backend.epsilon()`. */
export const BACKEND_EPSILON = 1e-7;
