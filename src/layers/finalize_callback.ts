/**
 * `FinalizeVariableValues`: a `model.fit` callback that ends training the way
 * Keras 3's `fit` does, by calling the optimizer's `finalizeVariableValues()`:
 * with `useEma`, every weight takes its moving average.
 */
import * as tfl from '@tensorflow/tfjs-layers';

interface Finalizing {
  finalizeVariableValues?: () => void;
}

export class FinalizeVariableValues extends tfl.Callback {
  override async onTrainEnd(): Promise<void> {
    const optimizer = (this.model as unknown as { optimizer?: Finalizing }).optimizer;
    optimizer?.finalizeVariableValues?.();
  }
}
