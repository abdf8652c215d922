// Keras 3's RMSprop (flavor 'keras3'): the module of its loops (steps/keras3.ts),
// one export per rule key and centered form. keras3_ema.ts exports the same with
// Keras 3's EMA folded in.
import { decayPass } from './common';
import { body } from './steps/keras3';

// Decoupled weight decay for every flavor that has it (keras2, keras3, tfjs).
export function decay(table: usize, count: i32, lr: f32, wd: f32): void { decayPass(table, count, lr, wd); }
export function plain(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, false, false); }
export function plainCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, false, true); }
export function momentum(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, true, false); }
export function momentumCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, true, true); }
export function nesterov(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, true, false, true); }
export function nesterovCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void { body(table, count, lr, rho, omr, mu, eps, true, true, true); }
