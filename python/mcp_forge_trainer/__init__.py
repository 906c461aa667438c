"""MCP-Forge's trainer: LoRA fine-tuning on tool-calling samples and GGUF export."""

__version__ = "0.1.0"
