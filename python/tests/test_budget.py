import json
import math
import time

from mcp_forge_trainer.budget import Budget, Phase, pretrain_epochs_for, steps_per_epoch
from mcp_forge_trainer.config import load_config

from conftest import train, write_samples


def phase(name, full_steps, tokens_per_second=1000.0, tokens_per_step=1000, overhead=1.0):
    return Phase(
        name,
        full_steps,
        full_steps * tokens_per_step,
        tokens_per_second,
        overhead,
        2 * tokens_per_second,
        overhead,
        steps=full_steps,
    )


def planned(seconds, phases, reserve=0.0, dry_run=False):
    budget = Budget(seconds, time.time(), dry_run)
    for p in phases:
        budget.phases[p.name] = p
    return budget, budget.plan(reserve)


def test_without_a_budget_or_with_room_the_whole_recipe_is_planned():
    for seconds in (0, 10_000):
        budget, estimate = planned(seconds, [phase("pretrain", 100), phase("lora", 20)])
        assert [p.steps for p in budget.phases.values()] == [100, 20]
        assert estimate["fraction"] == 1 and estimate["seconds"] == estimate["fullSeconds"] == 122.0


def test_a_short_budget_scales_every_phase_alike_and_keeps_one_step_each():
    # 120 s of tokens and 2 s of overheads in full; 5 s of finishing are kept back: 63 s leave 56 s of tokens.
    budget, estimate = planned(63, [phase("pretrain", 100), phase("lora", 20)])
    pre, lora = budget.phases["pretrain"], budget.phases["lora"]
    assert (pre.steps, lora.steps) == (46, 9)
    assert estimate["seconds"] <= 63 - 5
    assert 0.45 < estimate["fraction"] < 0.47
    assert budget.deadlines["pretrain"] < budget.deadlines["lora"] <= budget.deadlines["end"] + 0.01
    budget, _ = planned(1, [phase("pretrain", 100), phase("lora", 20)])
    assert [p.steps for p in budget.phases.values()] == [1, 1]


def test_the_report_gives_the_fraction_of_the_recipe_and_the_estimate_error():
    budget, _ = planned(63, [phase("pretrain", 100), phase("lora", 20)])
    budget.record("pretrain", 46, 46, 60.0, 30.0)  # 47 s estimated for 46 steps (24 s of CPU time)
    budget.record("lora", 9, 9, 12.0, 6.0)  # 10 s estimated (5.5 s of CPU time)
    report = budget.report()
    assert report["fraction"] == round((46_000 + 9_000) / 120_000, 4)
    assert report["cut"] == "plan"
    assert report["estimatedSeconds"] == 57.0 and report["actualSeconds"] == 72.0
    assert report["estimateError"] == round(72 / 57 - 1, 4)
    assert report["cpuEstimateError"] == round(36 / 29.5 - 1, 4)


def test_pretrain_epochs_give_exactly_the_planned_steps_as_the_trainer_counts_them():
    cfg = load_config({"data": __file__, "output_dir": "/tmp/x", "tiny.pretrain_batch_size": 8})
    for sequences in (48, 4000, 4003):
        per_epoch = steps_per_epoch(sequences, 8, 1)
        for steps in (1, 7, per_epoch - 1, per_epoch, 3 * per_epoch + 5):
            epochs = pretrain_epochs_for(steps, cfg, sequences)
            assert math.ceil(epochs * per_epoch) == steps  # transformers' Trainer: ceil(epochs × steps per epoch)


def test_the_time_budget_is_not_part_of_the_config_hash():
    base = {"data": __file__, "output_dir": "/tmp/x"}
    assert load_config(base).hash() == load_config({**base, "time_budget_seconds": 60}).hash()


def test_a_dry_run_measures_and_estimates_but_trains_and_writes_nothing(tmp_path):
    data = write_samples(tmp_path / "train.jsonl", 48)
    out = tmp_path / "model"
    code, events, stderr = train(tmp_path, data, {"max_steps": 6}, out=out, dry_run=True)
    assert code == 0, stderr[-3000:]
    assert not out.exists()
    assert not [e for e in events if e["event"] == "step"]
    [estimate] = [e for e in events if e["event"] == "estimate"]
    assert [p["phase"] for p in estimate["phases"]] == ["pretrain", "lora"]
    assert estimate["tokens"] > 0 and estimate["tokensPerSecond"] > 0 and estimate["seconds"] > 0
    [done] = [e for e in events if e["event"] == "done"]
    assert done["dryRun"] is True and done["estimate"]["tokens"] == estimate["tokens"]


def test_the_estimate_of_a_short_training_is_within_half_of_the_time_its_loops_take(tmp_path):
    """Checked in the trainer's own CPU time: on a shared machine the load of other processes changes
    between measuring and training (single steps vary threefold on 2 loaded cores), which moves the
    wall-clock time alone; the estimate's wall-clock error is reported beside it. One thread: two
    threads that wait on each other spin, and burn CPU time in proportion to the machine's load."""
    data = write_samples(tmp_path / "train.jsonl", 96)
    code, events, stderr = train(
        tmp_path,
        data,
        {"tiny.max_samples": 96, "tiny.pretrain_epochs": 3, "max_steps": 12},
        env={"OMP_NUM_THREADS": "1"},
    )
    assert code == 0, stderr[-3000:]
    [estimate] = [e for e in events if e["event"] == "estimate"]
    [done] = [e for e in events if e["event"] == "done"]
    report = done["budget"]
    assert report["fraction"] == 1 and report["cut"] is None
    assert [p["steps"] for p in report["phases"]] == [p["fullSteps"] for p in estimate["phases"]] == [36, 12]
    assert abs(report["cpuEstimateError"]) <= 0.5, json.dumps(report)
    assert report["estimateError"] is not None


def test_a_budget_too_short_for_the_recipe_trains_part_of_it_and_finishes(tmp_path):
    data = write_samples(tmp_path / "train.jsonl", 96)
    started = time.time()
    budget_seconds = 60
    # 600 epochs: far more than a minute on any 2-core machine (an idle one ran 60 epochs in 56 s).
    epochs = 600
    code, events, stderr = train(
        tmp_path, data, {"tiny.max_samples": 96, "tiny.pretrain_epochs": epochs, "time_budget_seconds": budget_seconds}
    )
    took = time.time() - started
    assert code == 0, stderr[-3000:]
    [estimate] = [e for e in events if e["event"] == "estimate"]
    assert estimate["fraction"] < 1 and estimate["fullSeconds"] > budget_seconds
    [done] = [e for e in events if e["event"] == "done"]
    assert 0 < done["budget"]["fraction"] < 1 and done["budget"]["cut"] in ("plan", "deadline")
    # On a loaded machine the start-up alone (imports, tokenizer, measuring) may use the budget up: then
    # each loop runs one step. The margin: Python's start before the trainer's clock, the step that
    # crosses the deadline, and saving; each can take several seconds on a loaded 2-core machine.
    report = done["budget"]
    assert took < max(budget_seconds, report["plannedAtSeconds"]) + 45, (took, report)
    if report["plannedAtSeconds"] >= budget_seconds:
        assert [p["steps"] for p in report["phases"]] == [1, 1]
    record = json.loads((tmp_path / "model" / "adapter" / "mcp_forge_training.json").read_text())
    assert record["budget"]["fraction"] == done["budget"]["fraction"]
    assert record["config"]["tiny"]["pretrain_epochs"] < epochs


def test_max_seq_length_rises_to_the_longest_sequence_unless_it_was_set():
    from mcp_forge_trainer.config import fit_seq_length

    columns = {"input_ids": [[1] * 100, [1] * 3000]}
    cfg = load_config({"data": __file__, "output_dir": "/tmp/x"})
    fit_seq_length(cfg, columns, 32768)
    assert cfg.max_seq_length == 3072
    capped = load_config({"data": __file__, "output_dir": "/tmp/x"})
    fit_seq_length(capped, columns, 2560)
    assert capped.max_seq_length == 2560
    explicit = load_config({"data": __file__, "output_dir": "/tmp/x", "max_seq_length": 1024})
    fit_seq_length(explicit, columns, 32768)
    assert explicit.max_seq_length == 1024
