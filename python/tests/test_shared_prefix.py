"""Shared-prefix training: the batch's loss is the loss of the whole rows, and batches are built from
rows that share their prefix."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from mcp_forge_trainer import budget, shared_prefix
from mcp_forge_trainer.config import load_config


def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=97,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
    )
    return LlamaForCausalLM(config).eval()


def batch(prefix: list[int], suffixes: list[list[int]], trained_from: int):
    """Right-padded rows of prefix + suffix, labels on the suffix's tokens from `trained_from` on."""
    width = max(len(prefix) + len(s) for s in suffixes)
    ids, labels, mask = [], [], []
    for s in suffixes:
        row = prefix + s
        pad = width - len(row)
        ids.append(row + [0] * pad)
        labels.append([-100] * (len(prefix) + trained_from) + s[trained_from:] + [-100] * pad)
        mask.append([1] * len(row) + [0] * pad)
    return torch.tensor(ids), torch.tensor(labels), torch.tensor(mask)


@pytest.mark.parametrize("trained_from", [0, 1])
def test_the_loss_with_the_prefix_run_once_equals_the_loss_of_whole_rows(trained_from):
    model = tiny_llama()
    prefix = [(7 * i) % 90 + 3 for i in range(80)]
    ids, labels, mask = batch(prefix, [[5, 6, 7, 8, 9, 10], [11, 12, 13], [14, 15, 16, 17, 18]], trained_from)
    shared = shared_prefix.common_prefix(ids, labels, mask)
    # The position before the first trained token predicts it, so it stays with the rows.
    assert shared == len(prefix) - 1 + trained_from
    batch_ = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    with torch.no_grad():
        whole = model(**batch_).loss
        inputs = shared_prefix.with_cached_prefix(model, batch_)
        assert inputs["input_ids"].shape[1] == ids.shape[1] - shared
        split = model(**inputs).loss
    assert torch.allclose(whole, split, atol=1e-5), (whole, split)


def test_no_shared_prefix_when_rows_differ_from_the_start():
    ids, labels, mask = batch([], [[1, 2, 3, 4], [5, 6, 7, 8]], trained_from=2)
    assert shared_prefix.common_prefix(ids, labels, mask) == 0


def test_rows_are_batched_with_rows_that_share_their_prefix():
    a, b = [1] * 70, [2] * 70
    rows = [a + [10 + i, 3] for i in range(8)] + [b + [20 + i, 3] for i in range(8)]
    masks = [[0] * (len(r) - 1) + [1] for r in rows]
    interleaved = {"input_ids": rows[::2] + rows[1::2], "assistant_masks": masks[::2] + masks[1::2]}
    ordered = shared_prefix.order_columns(interleaved, batch_size=4, seed=1)
    batches = [ordered["input_ids"][k : k + 4] for k in range(0, 16, 4)]
    assert all(len({tuple(r[:70]) for r in rows_}) == 1 for rows_ in batches)
    assert sorted(map(tuple, ordered["input_ids"])) == sorted(map(tuple, rows))
    requests = [r[70] for r in ordered["input_ids"] if r[0] == 1]
    assert requests != sorted(requests)  # within a group the order is random, not by request
    assert shared_prefix.order_columns(interleaved, 4, seed=1) == ordered  # a resumed run sees the same order


def test_groups_whose_size_is_not_a_multiple_of_the_batch_keep_every_full_batch_on_one_prefix():
    # Groups of 7, 6, 5 and 9 rows: each leaves a short batch, which the data loader would merge with
    # the next batch's rows if it came anywhere but the end.
    rows = [[p] * 70 + [10 + i, 3] for p, size in ((1, 7), (2, 6), (3, 5), (4, 9)) for i in range(size)]
    masks = [[0] * (len(r) - 1) + [1] for r in rows]
    ordered = shared_prefix.order_columns({"input_ids": rows, "assistant_masks": masks}, batch_size=4, seed=3)
    batches = [ordered["input_ids"][k : k + 4] for k in range(0, len(rows), 4)]
    full = sum(size // 4 for size in (7, 6, 5, 9))
    assert [len({r[0] for r in b}) for b in batches[:full]] == [1] * full


def test_it_applies_to_pretrained_models_lora_phase_only(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    cfg = load_config({"data": str(data), "output_dir": str(tmp_path / "out"), "model": "smollm2-135m"})
    assert shared_prefix.applies(cfg, "lora")
    assert not shared_prefix.applies(cfg, "pretrain")
    assert not shared_prefix.applies(load_config({**cfg.to_dict(), "model": "tiny", "tiny": {}}), "lora")
    assert not shared_prefix.applies(
        load_config({"data": str(data), "output_dir": "o", "model": "smollm2-135m", "shared_prefix": False}), "lora"
    )


def test_the_throughput_calibration_times_full_batches_of_rows_that_share_their_prefix(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    cfg = load_config({"data": str(data), "output_dir": str(tmp_path / "out"), "model": "smollm2-135m"})
    # Four system prompts in turn, as the generator writes them.
    rows = [[1 + i % 4] * 70 + [10 + i, 3] for i in range(16 * cfg.batch_size)]
    columns = {"input_ids": rows, "assistant_masks": [[0] * (len(r) - 1) + [1] for r in rows]}
    sample = budget.calibration_sample("lora", cfg, columns)
    trained = shared_prefix.order_columns(sample, cfg.batch_size, cfg.seed)["input_ids"]  # as phase_dataset orders it
    batches = [trained[k : k + cfg.batch_size] for k in range(0, len(trained), cfg.batch_size)]
    assert len(batches) >= budget.CALIBRATION_STEPS + 1
    assert all(len(b) == cfg.batch_size and len({r[0] for r in b}) == 1 for b in batches), [
        (len(b), sorted({r[0] for r in b})) for b in batches
    ]
