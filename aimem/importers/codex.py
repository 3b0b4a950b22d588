"""Importer placeholder (claimed)."""
NAME = "codex"
SOURCE = "codex"
DESCRIPTION = "placeholder"


def sniff(path, head=b""):
    return False


def parse(path, **kwargs):
    return iter(())
