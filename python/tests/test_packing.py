"""`packing`: the trainer's packed rows hold several samples end to end, and no token attends
across samples (each sample's logits in the row are those of the sample alone)."""

import torch

from mcp_forge_trainer import gguf_base
from mcp_forge_trainer.config import load_config
from mcp_forge_trainer.models import Backend
from mcp_forge_trainer.train import Settings, sft_args

from gguf_fixture import build


def test_packed_rows_attend_within_their_own_sample(tmp_path, monkeypatch):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    monkeypatch.setenv(gguf_base.CACHE_ENV, str(tmp_path / "cache"))
    folder = str(gguf_base.resolve(str(build(tmp_path / "model.gguf"))))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    lengths = [11, 23, 17]
    columns = {
        "input_ids": [[300 + (i * 7 + j) % 50 for j in range(n)] for i, n in enumerate(lengths)],
        "assistant_masks": [[1] * n for n in lengths],
    }
    (tmp_path / "data.jsonl").write_text("{}\n")
    cfg = load_config(
        {
            "data": str(tmp_path / "data.jsonl"),
            "output_dir": str(tmp_path / "out"),
            "packing": True,
            "max_seq_length": 64,
            "batch_size": 1,
        }
    )
    args = sft_args(cfg, tmp_path / "run", Settings(1, 1, 64), "lora", Backend("transformers", "cpu", 0))
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict(columns), processing_class=tokenizer)
    batch = next(iter(trainer.get_train_dataloader()))
    assert "attention_mask" not in batch and batch["input_ids"].shape == (1, sum(lengths))
    starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist()
    assert len(starts) == len(lengths)
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits[0]
        for start, end in zip(starts, starts[1:] + [sum(lengths)]):
            alone = model(input_ids=batch["input_ids"][:, start:end]).logits[0]
            assert torch.allclose(packed[start:end], alone, atol=1e-5)
        # Without the position ids the row is one causal sequence, and later samples see earlier ones.
        unpacked = model(input_ids=batch["input_ids"]).logits[0]
        assert not torch.allclose(unpacked[starts[1] :], packed[starts[1] :], atol=1e-3)
