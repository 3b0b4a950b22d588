"""The browser's screens and dialogs."""
