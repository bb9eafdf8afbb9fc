"""The bench's stack: the app's environment, with or without production's shared cache."""

import shutil

from bench.config import Config
from bench.stack import Stack


def stack_with(monkeypatch, **environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    stack = Stack(Config())
    shutil.rmtree(stack.tmp)
    return stack


def test_the_app_keeps_its_cache_in_each_process_unless_a_cache_url_is_given(monkeypatch):
    monkeypatch.setenv("CACHE_URL", "rediscache://127.0.0.1:6379/1")  # the shell's: not used

    assert "CACHE_URL" not in stack_with(monkeypatch, BENCH_CACHE_URL="").app_env()
    shared = stack_with(monkeypatch, BENCH_CACHE_URL="rediscache://127.0.0.1:6379/6")
    assert shared.app_env()["CACHE_URL"] == "rediscache://127.0.0.1:6379/6"
