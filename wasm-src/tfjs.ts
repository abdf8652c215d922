// TF.js's tf.train.rmsprop (flavor 'tfjs'): the module of its loops
// (steps/tfjs.ts), one export per rule key and centered form. tfjs_ema.ts exports
// the same with Keras 3's EMA folded in.
import { body } from './steps/tfjs';

export function momentum(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, false, false); }
export function momentumCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, true, false); }
export function nesterov(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, false, true); }
export function nesterovCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, true, true); }
