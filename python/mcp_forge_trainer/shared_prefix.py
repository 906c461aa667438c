"""Training on a shared prefix once per batch.

Every sample of a server starts with the same system turn listing the server's tools: with a
pretrained model's tool template that prefix is most of the sequence (about 1,300 of 1,650
tokens for the memory server's nine tools on SmolLM2). Batches are therefore built from samples
that share their prefix, and each batch runs the prefix once, without gradient, through the
model as it is (adapter included), then trains on the rest of every row with the prefix's
key/value cache. The loss is the same tokens' loss; what is lost is only the gradient that would
flow into the adapter through the prefix's keys and values. docs/benchmarks.md has the speed-up.
"""

import functools
import os
import random

# A shorter common prefix is not worth a second forward pass.
MIN_PREFIX_TOKENS = 64


def applies(cfg, phase: str) -> bool:
    """Pretrained models' LoRA phase: the tiny model's template lists no tools, so its prefixes are
    short, and packed rows hold several samples."""
    return phase == "lora" and cfg.shared_prefix and cfg.pretrained() and not cfg.packing


def order_columns(columns: dict, batch_size: int, seed: int) -> dict:
    """The rows reordered so that each run of `batch_size` rows shares its prefix: rows that share
    at least half of what precedes their first trained token (the system turn and the tools; the
    request is the rest) form a group, each group is shuffled and cut into batches, and the full
    batches are shuffled (with `seed`, so a resumed run sees the same order). Within a group the
    order is random: sorted batches of one kind of sample taught the tiny model nothing
    (docs/benchmarks.md, "Signature-line template"). The groups' short last batches come at the
    end: the data loader cuts the rows into batches of `batch_size` in order, so a short batch in
    the middle shifted every later batch across two groups, without a shared prefix (the main
    command's SmolLM2 then trained three times slower, at 21 GB instead of 6)."""
    rng = random.Random(seed)
    untrained = [
        ids[: mask.index(1) if 1 in mask else None]
        for ids, mask in zip(columns["input_ids"], columns["assistant_masks"])
    ]
    rows = sorted(range(len(untrained)), key=untrained.__getitem__)
    groups: list[list[int]] = []
    for prev, row in zip([None, *rows], rows):
        a, b = (untrained[prev], untrained[row]) if prev is not None else ([], [])
        shared = len(os.path.commonprefix([a, b]))
        if groups and shared >= MIN_PREFIX_TOKENS and 2 * shared >= min(len(a), len(b)):
            groups[-1].append(row)
        else:
            groups.append([row])
    full: list[list[int]] = []
    short: list[list[int]] = []
    for group in groups:
        rng.shuffle(group)
        for k in range(0, len(group), batch_size):
            batch = group[k : k + batch_size]
            (full if len(batch) == batch_size else short).append(batch)
    rng.shuffle(full)
    order = [i for batch in full + short for i in batch]
    return {key: [values[i] for i in order] for key, values in columns.items()}


def common_prefix(input_ids, labels, attention_mask) -> int:
    """Tokens every row shares, ending before the position that predicts the first trained token."""
    import torch

    rows = input_ids.shape[0]
    same = (input_ids == input_ids[:1]).all(dim=0) if rows > 1 else torch.ones_like(input_ids[0], dtype=torch.bool)
    identical = int((same & (attention_mask == 1).all(dim=0)).long().cumprod(0).sum())
    trained = (labels != -100).any(dim=0).nonzero()
    first_trained = int(trained[0]) if len(trained) else input_ids.shape[1]
    return max(0, min(identical, first_trained - 1, input_ids.shape[1] - 1))


def with_cached_prefix(model, inputs: dict) -> dict:
    """The batch with its shared prefix run once, without gradient, and handed over as a key/value
    cache; unchanged when the rows share too little (or are packed, with position ids)."""
    import torch

    ids, labels, mask = inputs.get("input_ids"), inputs.get("labels"), inputs.get("attention_mask")
    if ids is None or labels is None or mask is None or "position_ids" in inputs:
        return inputs
    shared = common_prefix(ids, labels, mask)
    if shared < MIN_PREFIX_TOKENS:
        return inputs
    with torch.no_grad():
        cache = model(input_ids=ids[:1, :shared], use_cache=True).past_key_values
    if ids.shape[0] > 1:
        cache.batch_repeat_interleave(ids.shape[0])
    return {**inputs, "input_ids": ids[:, shared:], "labels": labels[:, shared:], "past_key_values": cache}


@functools.cache
def trainer_class():
    """SFTTrainer with the shared prefix run once per batch (see the module's docstring)."""
    from trl import SFTTrainer

    class SharedPrefixTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            return super().compute_loss(model, with_cached_prefix(model, inputs), return_outputs, num_items_in_batch)

    return SharedPrefixTrainer
