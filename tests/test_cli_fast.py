"""`hepatrial --help` imports only the command line: each module's commands load when they run."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from hepatrial.cli import PLUGGED_COMMANDS, build_parser


def test_the_table_of_commands_is_what_the_modules_register():
    registered = {}
    for module_name in {m for m, _ in PLUGGED_COMMANDS.values()}:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).register(sub)
        registered |= {a.dest: (module_name, a.help) for a in sub._choices_actions}
    assert registered == PLUGGED_COMMANDS


def test_help_imports_neither_django_nor_the_statistics():
    heavy = ("django", "pandas", "numpy", "scipy")
    code = ("import sys; from hepatrial.cli import build_parser; build_parser(plugged=()); "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_plugged_command_gets_its_full_arguments():
    parser = build_parser(plugged={"hepatrial.edc.commands"})
    args = parser.parse_args(["export", "adam", "--out", "x", "--as", "monitor"])
    assert (args.out, args.as_user) == ("x", "monitor")
