import jax
import pytest


# Implicit rank promotion hides shape bugs (an (N,) array added to an (N, 1) one
# broadcasts to (N, N)): the suite runs with it refused, as Diffrax's does.
jax.config.update("jax_numpy_rank_promotion", "raise")


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
