/** Training produced a non-finite loss; the model keeps its last good parameters. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly epoch: number,
    readonly loss: number,
  ) {
    super(
      `training diverged at epoch ${epoch} (loss ${loss}); the parameters of the last good epoch were kept. ` +
        "Lower the learning rate or raise the weight decay.",
    );
    this.name = "TrainingDivergedError";
  }
}
