import jax
import pytest


@pytest.fixture
def x64():
    """Run a test in double precision (for convergence-order and exactness tests)."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def getkey():
    counter = iter(range(10**6))

    def _getkey():
        return jax.random.key(next(counter))

    return _getkey
