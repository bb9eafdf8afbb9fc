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


def test_the_app_shares_production_s_redis_cache_unless_told_memory(monkeypatch):
    monkeypatch.setenv("CACHE_URL", "rediscache://127.0.0.1:6379/1")  # the shell's: not used

    monkeypatch.delenv("BENCH_CACHE_URL", raising=False)
    assert stack_with(monkeypatch).app_env()["CACHE_URL"] == "rediscache://127.0.0.1:6379/6"
    assert "CACHE_URL" not in stack_with(monkeypatch, BENCH_CACHE_URL="memory").app_env()
    other = stack_with(monkeypatch, BENCH_CACHE_URL="rediscache://127.0.0.1:6379/9")
    assert other.app_env()["CACHE_URL"] == "rediscache://127.0.0.1:6379/9"
