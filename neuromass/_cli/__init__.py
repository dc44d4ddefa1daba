"""The `neuromass` command line (`neuromass demo | models | simulate | sweep`)."""

from ._main import build_parser as build_parser, main as main
