"""Diagnosing a rugged loss from the path of a fit: `RuggedLossWarning`."""

import numpy as np


class RuggedLossWarning(UserWarning):
    """Warned by `neuromass.fit` when the loss along the fit's path changed
    against what its gradient predicted: a rugged ("washboard") loss.

    At a step from $\\theta_s$ to $\\theta_{s+1}$ with displacement $v$, the
    directional derivatives $g_s \\cdot v$ and $g_{s+1} \\cdot v$ at both ends are
    computed from the gradients the fit already has. If both say the loss falls
    along $v$ (both negative) but it rose, or both say it rises but it fell, then
    the loss is not smooth at the scale of the step: between the two points it
    has bumps the gradient cannot see. For a convex loss this can never happen
    (so the test has no false alarms there); on a washboard it happens at a good
    fraction of the steps, and the gradient then points along the ripples rather
    than towards the minimum: a fit can drift the wrong way.

    The warning says at how many steps this happened and gives the worst one.
    Look at the loss with `neuromass.landscape`, make it smoother (average
    noise realisations with `neuromass.ensemble_loss`, longer runs, summary
    statistics that average over more samples), or search globally: `starts=`
    (multi-start) or `strategy=nm.CMAES(...)` in `neuromass.fit`.

    It is not checked for a stochastic loss (`fit(..., key=...)`), whose
    consecutive steps see different noise and are not comparable.

    !!! example

        ```python
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nm.RuggedLossWarning)
            fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                                   optimizer=optax.adam(0.1), steps=20)
        if caught:  # the loss is rugged: search globally instead
            fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                                   constraints={lambda n: n.k: nm.Bounded(0.0, 0.3)},
                                   strategy=nm.CMAES(8, 6))

        # or silence it
        warnings.filterwarnings("ignore", category=nm.RuggedLossWarning)
        ```
    """


#: Relative size (to the largest |loss| on the path) below which a change of the
#: loss is treated as rounding.
_RTOL = 1e-5
#: Warn when at least this many steps, and this fraction of the comparable ones,
#: contradict their gradients.
_MIN_COUNT = 2
_MIN_FRACTION = 0.1


def contradicting_steps(
    loss: np.ndarray,
    theta: list[np.ndarray],
    grads: list[np.ndarray],
    skipped: np.ndarray,
) -> tuple[np.ndarray, int]:
    """The steps whose loss change contradicts the gradients at both ends.

    **Arguments:**

    - `loss`: `(steps,)` loss at each evaluated point.
    - `theta`, `grads`: per trained leaf, `(steps, *shape)` unconstrained
        coordinates and the loss's gradient with respect to them.
    - `skipped`: `(steps,)` steps whose update was skipped (non-finite).

    **Returns:**

    `(indices s of contradicting steps s -> s + 1, number of comparable steps)`.
    """
    loss = np.asarray(loss, dtype=float)
    n = loss.shape[0]
    if n < 2:
        return np.zeros(0, np.int64), 0
    flat_theta = np.concatenate(
        [np.asarray(t, dtype=float).reshape(n, -1) for t in theta], axis=1
    )
    flat_grad = np.concatenate(
        [np.asarray(g, dtype=float).reshape(n, -1) for g in grads], axis=1
    )
    finite = np.isfinite(loss) & np.isfinite(flat_grad).all(axis=1)
    finite &= ~np.asarray(skipped, dtype=bool)
    scale = np.max(np.abs(loss[finite])) if finite.any() else 0.0
    tol = _RTOL * scale
    step = flat_theta[1:] - flat_theta[:-1]
    d0 = np.sum(flat_grad[:-1] * step, axis=1)
    d1 = np.sum(flat_grad[1:] * step, axis=1)
    change = loss[1:] - loss[:-1]
    ok = finite[:-1] & finite[1:] & np.any(step != 0, axis=1)
    comparable = ok & (np.abs(change) > tol)
    agree = np.sign(d0) == np.sign(d1)
    against = np.sign(change) == -np.sign(d0)
    bad = comparable & agree & (d0 != 0) & against
    return np.flatnonzero(bad), int(ok.sum())


def rugged_message(
    loss: np.ndarray,
    theta: list[np.ndarray],
    grads: list[np.ndarray],
    skipped: np.ndarray,
    where: str = "`fit`",
) -> str | None:
    """The text of a `RuggedLossWarning` for this path, or `None`."""
    bad, n = contradicting_steps(loss, theta, grads, skipped)
    if len(bad) < _MIN_COUNT or len(bad) < _MIN_FRACTION * max(n, 1):
        return None
    loss = np.asarray(loss, dtype=float)
    change = loss[bad + 1] - loss[bad]
    worst = int(bad[np.argmax(np.abs(change))])
    rose = loss[worst + 1] > loss[worst]
    return (
        f"{where}: at {len(bad)} of {n} steps the loss changed against its "
        f"gradient (e.g. step {worst} -> {worst + 1}: the loss "
        f"{'rose' if rose else 'fell'} from {loss[worst]:.6g} to "
        f"{loss[worst + 1]:.6g} where the gradients at both ends said it would "
        f"{'fall' if rose else 'rise'}). The loss is rugged (a washboard of local "
        "minima) at the scale of the steps, so the gradient can point the wrong "
        "way. Look at it with `nm.landscape`, smooth it (`nm.ensemble_loss` over "
        "noise realisations, longer runs), or search globally with `starts=` "
        "(multi-start) or `strategy=nm.CMAES(...)`."
    )
