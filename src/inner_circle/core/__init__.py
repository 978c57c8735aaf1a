"""The rules of a family messenger, with no I/O."""
