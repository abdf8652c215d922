/** Mulberry32, the seeded generator the main job uses, so a failing test can be replayed. */
export { mulberry32 as rng } from '../../app/random.js';
