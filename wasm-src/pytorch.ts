// PyTorch's RMSprop (flavor 'pytorch'): the module of its loops
// (steps/pytorch.ts), one export per rule key and centered form. pytorch_ema.ts
// exports the same with Keras 3's EMA folded in.
import { body } from './steps/pytorch';

export function plain(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32): void { body(table, count, lr, rho, omr, mu, eps, wd, false, false); }
export function plainCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32): void { body(table, count, lr, rho, omr, mu, eps, wd, false, true); }
export function momentum(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32): void { body(table, count, lr, rho, omr, mu, eps, wd, true, false); }
export function momentumCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32): void { body(table, count, lr, rho, omr, mu, eps, wd, true, true); }
export function nesterov(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32): void { body(table, count, lr, rho, omr, mu, eps, wd, true, false, true); }
export function nesterovCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32): void { body(table, count, lr, rho, omr, mu, eps, wd, true, true, true); }
