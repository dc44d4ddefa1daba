import jax
import pytest


@pytest.fixture(autouse=True)
def _rank_promotion_raises():
    """Every test runs with implicit rank promotion refused (as Diffrax's suite
    does): `x + y` of shapes (3,) and (2, 3) must be written with an explicit
    broadcast, so a shape mistake cannot pass silently."""
    with jax.numpy_rank_promotion("raise"):
        yield


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
