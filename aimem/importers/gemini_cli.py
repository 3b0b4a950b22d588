"""Importer placeholder (claimed)."""
NAME = "gemini_cli"
SOURCE = "gemini-cli"
DESCRIPTION = "placeholder"


def sniff(path, head=b""):
    return False


def parse(path, **kwargs):
    return iter(())
