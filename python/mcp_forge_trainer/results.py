"""The trainer's results: what `train` and `export` return and emit as their `done` event, and the
records inside them (docs/contract.md §7). The keys are the protocol's; src/core/trainer-process.ts
declares the same records under the same names (tests/core/contract.test.ts compares their keys).

Only `typing` here: the benchmarks import these types before the protocol can report a missing torch."""

from typing import Literal, TypedDict


class DatasetStats(TypedDict):
    """The rendered training set (`data.dataset_stats`), in tokens of the model's tokenizer."""

    sequences: int
    tokens: int
    assistantTokens: int
    maxLength: int
    meanLength: float
    truncated: int
    truncatedAssistantTokens: int


class EstimatePhase(TypedDict):
    phase: str
    steps: int
    fullSteps: int
    tokens: int
    fullTokens: int
    tokensPerSecond: float
    seconds: float


class TrainingEstimate(TypedDict):
    """The `estimate` event (`Budget.plan`): what this training will take on this machine."""

    tokens: int
    fullTokens: int
    tokensPerSecond: float
    seconds: float
    fullSeconds: float
    budgetSeconds: float | None
    fraction: float
    phases: list[EstimatePhase]
    dryRun: bool


class BudgetPhase(TypedDict):
    phase: str
    steps: int
    plannedSteps: int
    fullSteps: int
    tokens: int
    fullTokens: int
    seconds: float
    estimatedSeconds: float


class BudgetReport(TypedDict):
    """`Budget.report`: how much of the recipe was trained, and the estimate against the time taken."""

    budgetSeconds: float | None
    fraction: float
    cut: Literal["plan", "deadline"] | None
    phases: list[BudgetPhase]
    estimatedSeconds: float
    actualSeconds: float
    estimateError: float | None
    cpuEstimateError: float | None
    fullSeconds: float | None
    plannedAtSeconds: float | None


class LoopSummary(TypedDict):
    """One training loop's outcome (`train.run_phase`); the adapter's record keeps the LoRA loop's."""

    steps: int
    maxSteps: int
    finalLoss: float | None
    firstLoss: float | None
    trainLoss: float
    batchSize: int
    gradAccum: int
    maxSeqLength: int
    tokensSeen: int
    runtimeSeconds: float
    interrupted: bool
    loopSeconds: float
    loopCpuSeconds: float
    stepsRun: int


class TrainTimings(TypedDict, total=False):
    """Filled in as training goes: `tinyBaseSeconds` for the tiny model only; the `done` event has
    `trainSeconds` and `totalSeconds` always."""

    tinyBaseSeconds: float
    trainSeconds: float
    totalSeconds: float


class TrainDone(TypedDict):
    """`train`'s result and `done` event."""

    finalLoss: float | None
    firstLoss: float | None
    evalLoss: float | None
    adapterPath: str
    steps: int
    timings: TrainTimings
    tokensPerSecond: float
    datasetStats: DatasetStats
    trainingConfigHash: str
    backend: str
    budget: BudgetReport


class DryRunDone(TypedDict):
    """`train --dry-run`'s result and `done` event: the estimate, nothing trained."""

    dryRun: Literal[True]
    estimate: TrainingEstimate | None


class ExportTimings(TypedDict, total=False):
    """Filled in stage by stage; the `done` event has all three."""

    mergeSeconds: float
    convertSeconds: float
    quantizeSeconds: float


class VerifyResult(TypedDict):
    """`export.load_and_generate`: the GGUF loaded by llama.cpp and a few tokens generated."""

    generatedTokens: int
    sample: str
    seconds: float


class ExportDone(TypedDict):
    """`export`'s result and `done` event."""

    path: str
    sizeBytes: int
    quant: str
    timings: ExportTimings
    verify: VerifyResult | None
    metadata: list[str]
