"""Prior distributions as data, read by both a model's PyMC graph and its numba kernel.

Each model module writes its priors once, as a `dict` of name -> `Normal` / `HalfNormal`
/ ... The PyMC graph builds its distributions from those entries (`dist`, `rv`) and the
kernel reads their parameters by name from a float64 vector: `KernelPriors(PRIORS)` gives
each parameter its place (`at.alpha_mu`, `at.sigma_party_beta`: entry name, underscore,
parameter name) and packs a table into that vector (`pack`), so a prior is one edit and
the kernel == graph tests check that both read it. The kernel implements the families the
table had when it was written: `pack` refuses a table whose entries differ in name or
family instead of handing the kernel numbers it would misread.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields

import numpy as np


def _f64(value) -> np.float64:
    """A parameter as float64: PyTensor stores a Python float that float32 holds exactly
    (3.0, 0.5) as float32, and PyMC's Gamma then computes 1/(1/3) and gammaln(3) in
    float32 (errors ~1e-7)."""
    return np.float64(value)


@dataclass(frozen=True)
class Normal:
    mu: float
    sigma: float

    def dist(self):
        import pymc as pm

        return pm.Normal.dist(_f64(self.mu), _f64(self.sigma))

    def rv(self, name: str, **kwargs):
        import pymc as pm

        return pm.Normal(name, _f64(self.mu), _f64(self.sigma), **kwargs)

    def __str__(self) -> str:
        return f"Normal({self.mu:g}, {self.sigma:g})"


@dataclass(frozen=True)
class HalfNormal:
    sigma: float

    def dist(self):
        import pymc as pm

        return pm.HalfNormal.dist(_f64(self.sigma))

    def rv(self, name: str, **kwargs):
        import pymc as pm

        return pm.HalfNormal(name, _f64(self.sigma), **kwargs)

    def __str__(self) -> str:
        return f"HalfNormal({self.sigma:g})"


@dataclass(frozen=True)
class Gamma:
    alpha: float  # shape
    beta: float  # rate

    def dist(self):
        import pymc as pm

        return pm.Gamma.dist(alpha=_f64(self.alpha), beta=_f64(self.beta))

    def rv(self, name: str, **kwargs):
        import pymc as pm

        return pm.Gamma(name, alpha=_f64(self.alpha), beta=_f64(self.beta), **kwargs)

    def __str__(self) -> str:
        return f"Gamma({self.alpha:g}, {self.beta:g})"


@dataclass(frozen=True)
class SoftBound:
    """A smooth wall, not a distribution: the log factor -(|x| / edge)^power of a value
    x (0 at 0, -1 at the edge, steep beyond it for a large power). It multiplies a
    proper prior (so the product stays proper) and is added as a potential."""

    edge: float
    power: float

    def log_factor(self, value):
        import pytensor.tensor as pt

        return -(pt.abs(value / _f64(self.edge)) ** _f64(self.power))

    def __str__(self) -> str:
        return f"SoftBound(edge {self.edge:g}, power {self.power:g})"


Prior = Normal | HalfNormal | Gamma | SoftBound


def logp(prior: Prior, value):
    """The log-density of `prior` (a SoftBound: its log factor) at a PyTensor `value`
    (for potentials)."""
    import pymc as pm

    if isinstance(prior, SoftBound):
        return prior.log_factor(value)
    return pm.logp(prior.dist(), value)


class KernelPriors:
    """A model's kernel view of its priors table, by name.

    `at`: a namedtuple of positions in the packed vector, one field per parameter named
    "<entry>_<parameter>" (`at.alpha_mu`, `at.plane_edge`), and `at.end`, where the
    model's own data (cutpoints ...) start; numba reads it as compile-time constants.
    `pack(table)`: the parameters of `table` at those positions (float64), refused with
    a TypeError when `table`'s entries are not the names and families the kernel was
    written for (those of the table given here).
    """

    def __init__(self, priors: Mapping[str, Prior]):
        self.families = {name: type(prior) for name, prior in priors.items()}
        names = [f"{name}_{f.name}" for name, prior in priors.items() for f in fields(prior)]
        self.at = namedtuple("PriorPositions", [*names, "end"])(*range(len(names) + 1))

    def pack(self, priors: Mapping[str, Prior]) -> np.ndarray:
        for name, family in self.families.items():
            prior = priors.get(name)
            if not isinstance(prior, family):
                raise TypeError(
                    f"prior {name!r} is {prior}; the kernel implements {family.__name__} for it "
                    "(change the kernel together with the family)"
                )
        extra = sorted(set(priors) - set(self.families))
        if extra:
            raise TypeError(f"prior(s) {extra} are read by no kernel (add them to the model's kernel)")
        return np.array([v for name in self.families for v in astuple(priors[name])], dtype=np.float64)


def describe(priors: Mapping[str, Prior]) -> dict[str, str]:
    """name -> 'Normal(0, 5)' (for metadata and documentation)."""
    return {name: str(prior) for name, prior in priors.items()}
