"""Temporal equations: the time courses of The Virtual Brain's stimuli."""

import jax
import jax.numpy as jnp
import numpy as np

from ._base import AbstractEquation, concrete, optional_parameter, parameter, require


# TVB writes 2 pi and pi / sqrt(3) as these literals; the same float64 numbers here.
_TWO_PI = 6.283185307179586
_PI_OVER_SQRT3 = 1.8137993642342178


class PulseTrain(AbstractEquation):
    r"""A train of rectangular pulses of width $\tau$ every $T$ ms from `onset` on.

    The exact form (`sharpness=None`, The Virtual Brain's `PulseTrain`):

    $$f(t) = \begin{cases} \mathrm{amp} & \text{if } t > \mathrm{onset}
      \text{ and } (t - \mathrm{onset}) \bmod T < \tau \\
      0 & \text{otherwise} \end{cases}$$

    As in TVB, the train is off at $t = \mathrm{onset}$ exactly but on at
    $\mathrm{onset} + kT$ for $k \geq 1$. Being piecewise constant, it has zero
    derivative with respect to `onset`, `T` and `tau` (its derivative with
    respect to `amp` is exact).

    The smooth form (`sharpness` $s > 0$, in 1/ms) replaces each edge by a logistic
    sigmoid $\sigma(x) = 1 / (1 + e^{-x})$ of width about $1/s$:

    $$f_s(t) = \mathrm{amp} \sum_{k \geq 0} \Big[\sigma\big(s\,(t - t_k)\big)
      - \sigma\big(s\,(t - t_k - \tau)\big)\Big], \qquad
      t_k = \mathrm{onset} + kT$$

    summed over the pulse in progress and its two neighbours (the farther pulses
    contribute less than $e^{-sT}$ each; the truncated sum is still continuous).
    It tends to the exact form as $s \to \infty$: at distance $d$ (ms) from the
    nearest edge the two differ by less than $6\,|\mathrm{amp}|\,e^{-s d}$. It is
    differentiable with respect to `onset`, `T`, `tau` and `amp`: use it to fit or
    optimise a pulse train by gradient descent.

    **Arguments:** (TVB's defaults)

    - `onset`: time of the first pulse's rising edge, ms (30.0).
    - `T`: repetition period, ms, $> 0$ (42.0).
    - `tau`: pulse width, ms, $0 \leq \tau \leq T$ (13.0); $\tau = T$ gives a step
      that stays on from `onset`.
    - `amp`: pulse amplitude, in the units of the stimulated variable's derivative
      (1.0).
    - `sharpness`: None for TVB's exact form (default), or the edge steepness
      $s > 0$ in 1/ms of the smooth form.

    !!! example

        ```python
        import jax.numpy as jnp
        import numpy as np
        import neuromass as nm

        t = jnp.array([30.0, 31.0, 43.0, 50.0, 72.0])
        print(nm.equations.PulseTrain()(t))  # [0. 1. 0. 0. 1.]
        smooth = nm.equations.PulseTrain(sharpness=5.0)
        print(np.asarray(smooth(t)).round(3))  # [0.5   0.993 0.5   0.    0.5  ]
        ```
    """

    onset: jnp.ndarray = parameter(30.0)
    T: jnp.ndarray = parameter(42.0)
    tau: jnp.ndarray = parameter(13.0)
    amp: jnp.ndarray = parameter(1.0)
    sharpness: jnp.ndarray | None = optional_parameter(None)

    def __check_init__(self):
        require(
            self,
            "T",
            lambda T: T > 0,
            "> 0 (the repetition period, ms)",
            "Give the time from one pulse onset to the next.",
        )
        require(
            self,
            "tau",
            lambda tau: tau >= 0,
            ">= 0 (the pulse width, ms)",
            "Give the duration of each pulse.",
        )
        tau, T = concrete(self.tau), concrete(self.T)
        if tau is not None and T is not None and np.any(tau > T):
            raise ValueError(
                f"`PulseTrain(tau=...)` must be <= `T` (the width of a pulse cannot "
                f"exceed the period); got tau={tau} > T={T}. For a stimulus that "
                "stays on from `onset`, give tau = T."
            )
        if self.sharpness is not None:
            require(
                self,
                "sharpness",
                lambda s: s > 0,
                "> 0 (the edge steepness, 1/ms) or None",
                "Use None for TVB's exact, discontinuous pulse train.",
            )

    def __call__(self, var):
        var = jnp.asarray(var)
        if self.sharpness is None:
            on = (var > self.onset) & (
                jnp.remainder(var - self.onset, self.T) < self.tau
            )
            return jnp.where(on, self.amp, 0.0)
        s, T, tau = self.sharpness, self.T, self.tau

        def pulse(x):  # one smooth pulse, x = time since its rising edge
            return jax.nn.sigmoid(s * x) - jax.nn.sigmoid(s * (x - tau))

        # The sum over pulses k - 1, k, k + 1 around the pulse in progress, k. It
        # switches to the next k in the middle of the off interval, where the term
        # dropped (k - 1) and the term added (k + 2) are equal by symmetry, so the
        # truncated sum stays continuous. No pulse precedes the first: up to the
        # first switch (k = 0) the sum runs over pulses 0, 1, 2, the same terms as
        # just after it.
        k = jnp.maximum(jnp.floor((var - self.onset + (T - tau) / 2) / T), 0.0)
        x = var - self.onset - k * T
        third = jnp.where(k >= 1, pulse(x + T), pulse(x - 2 * T))
        return self.amp * (third + pulse(x) + pulse(x - T))


class Sinusoid(AbstractEquation):
    r"""A sine wave, The Virtual Brain's `Sinusoid`.

    $$f(t) = \mathrm{amp}\,\sin(2\pi\,\mathrm{frequency}\;t)$$

    **Arguments:** (TVB's defaults)

    - `amp`: amplitude (1.0).
    - `frequency`: frequency in cycles per ms, i.e. kHz (0.01, that is 10 Hz).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        tacs = nm.equations.Sinusoid(amp=0.5, frequency=0.04)  # 40 Hz
        print(tacs(jnp.array([0.0, 6.25])))  # [0.  0.5]
        ```
    """

    amp: jnp.ndarray = parameter(1.0)
    frequency: jnp.ndarray = parameter(0.01)

    def __call__(self, var):
        return self.amp * jnp.sin(_TWO_PI * self.frequency * jnp.asarray(var))


class Cosine(AbstractEquation):
    r"""A cosine wave, The Virtual Brain's `Cosine`.

    $$f(t) = \mathrm{amp}\,\cos(2\pi\,\mathrm{frequency}\;t)$$

    **Arguments:** (TVB's defaults)

    - `amp`: amplitude (1.0).
    - `frequency`: frequency in cycles per ms, i.e. kHz (0.01, that is 10 Hz).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        print(nm.equations.Cosine()(jnp.array([0.0, 50.0])))  # [ 1. -1.]
        ```
    """

    amp: jnp.ndarray = parameter(1.0)
    frequency: jnp.ndarray = parameter(0.01)

    def __call__(self, var):
        return self.amp * jnp.cos(_TWO_PI * self.frequency * jnp.asarray(var))


class Alpha(AbstractEquation):
    r"""An alpha (difference-of-exponentials) function from `onset` on, The Virtual
    Brain's `Alpha`: a synaptic-like transient that rises at rate $\beta$ and decays
    at rate $\alpha$.

    $$f(t) = \begin{cases} \dfrac{\alpha\beta}{\beta - \alpha}
      \Big(e^{-\alpha (t - \mathrm{onset})} - e^{-\beta (t - \mathrm{onset})}\Big)
      & t > \mathrm{onset} \\ 0 & \text{otherwise} \end{cases}$$

    Its integral over time is 1. It is continuous at `onset`, so it is
    differentiable with respect to all its parameters.

    **Arguments:** (TVB's defaults)

    - `onset`: start time, ms (0.5).
    - `alpha`: first rate, 1/ms, $> 0$ (13.0).
    - `beta`: second rate, 1/ms, $> 0$ and $\neq \alpha$ (42.0).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        epsp = nm.equations.Alpha(onset=10.0, alpha=0.1, beta=0.5)
        t = jnp.linspace(0.0, 100.0, 1001)
        print(float(epsp(t).sum() * 0.1))  # about 1: unit area
        ```
    """

    onset: jnp.ndarray = parameter(0.5)
    alpha: jnp.ndarray = parameter(13.0)
    beta: jnp.ndarray = parameter(42.0)

    def __check_init__(self):
        for name in ("alpha", "beta"):
            require(
                self,
                name,
                lambda r: r > 0,
                "> 0 (a rate, 1/ms)",
                "Give the inverse of the time constant in ms.",
            )
        alpha, beta = concrete(self.alpha), concrete(self.beta)
        if alpha is not None and beta is not None and np.any(alpha == beta):
            raise ValueError(
                f"`Alpha(alpha=..., beta=...)` must differ (the function divides by "
                f"beta - alpha); got alpha = beta = {alpha}. Move one of them "
                "slightly, e.g. beta = alpha * 1.01."
            )

    def __call__(self, var):
        var = jnp.asarray(var)
        after = (var - self.onset) > 0
        # Before the onset the exponentials may overflow: evaluate them at 0 there,
        # so that neither the value nor the gradient sees an inf.
        s = jnp.where(after, var - self.onset, 0.0)
        a, b = self.alpha, self.beta
        value = (a * b) / (b - a) * (jnp.exp(-a * s) - jnp.exp(-b * s))
        return jnp.where(after, value, 0.0 * var)


class GeneralizedSigmoid(AbstractEquation):
    r"""A rising sigmoid from `low` to `high`, The Virtual Brain's
    `GeneralizedSigmoid`.

    $$f(t) = \mathrm{low} + \frac{\mathrm{high} - \mathrm{low}}
      {1 + \exp\!\big(-\frac{\pi}{\sqrt 3}\,(t - \mathrm{midpoint})/\sigma\big)}$$

    The factor $\pi/\sqrt 3$ makes $\sigma$ the standard deviation of the logistic
    distribution whose cumulative distribution this is.

    **Arguments:** (TVB's defaults)

    - `low`: value long before `midpoint` (0.0).
    - `high`: value long after `midpoint` (1.0).
    - `midpoint`: time of the half-way value, ms (1.0).
    - `sigma`: width of the rise, ms, $> 0$ (0.3).

    !!! example

        ```python
        import jax.numpy as jnp
        import numpy as np
        import neuromass as nm

        ramp = nm.equations.GeneralizedSigmoid(midpoint=100.0, sigma=10.0)
        t = jnp.array([0.0, 100.0, 200.0])
        print(np.asarray(ramp(t)).round(3))  # [0.  0.5 1. ]
        ```
    """

    low: jnp.ndarray = parameter(0.0)
    high: jnp.ndarray = parameter(1.0)
    midpoint: jnp.ndarray = parameter(1.0)
    sigma: jnp.ndarray = parameter(0.3)

    def __check_init__(self):
        require(
            self,
            "sigma",
            lambda s: s > 0,
            "> 0 (the width of the rise, ms)",
            "Give a positive width; for a step use a small sigma.",
        )

    def __call__(self, var):
        z = _PI_OVER_SQRT3 * (jnp.asarray(var) - self.midpoint) / self.sigma
        return self.low + (self.high - self.low) * jax.nn.sigmoid(z)


class Linear(AbstractEquation):
    r"""A straight line, The Virtual Brain's `Linear`.

    $$f(t) = a\,t + b$$

    **Arguments:** (TVB's defaults)

    - `a`: slope, per ms (1.0).
    - `b`: value at $t = 0$ (0.0).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        print(nm.equations.Linear(a=0.01, b=1.0)(jnp.array([0.0, 100.0])))  # [1. 2.]
        ```
    """

    a: jnp.ndarray = parameter(1.0)
    b: jnp.ndarray = parameter(0.0)

    def __call__(self, var):
        return self.a * jnp.asarray(var) + self.b
