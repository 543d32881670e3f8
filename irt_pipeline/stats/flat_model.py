"""The flat 2PL IRT model: its PyMC graph, its anchors, its starts and its orientation.

The model, per chamber and session (n legislators, m roll calls):

    xi_i     ~ Normal(0, 1)      every legislator but the two anchors
    xi_R     = +1                the most conservative Republican on PCA
    xi_D     = -1                the most liberal Democrat on PCA
    alpha_j  ~ Normal(0, 5),  beta_j ~ Normal(0, 1)
    logit P(Yea_ij) = beta_j * xi_i - alpha_j           observed votes only

No party enters the prior: every legislator's position is a priori independent.

Identification. The likelihood is unchanged by xi -> a + b xi (with beta, alpha
adjusted); fixing two legislators' positions fixes a and b, the sign included. The
anchors are chosen among legislators who voted on at least half the roll calls (their
positions are then pinned by many votes), by their PCA scores. xi is reported on this
*anchored* scale: +1 and -1 are the two anchors' positions, not standard deviations.
`standardized_xi` restates it per draw as chamber mean 0, sd 1, the hierarchical
model's scale, for rankings that compare across models.

Orientation. After sampling, each chain is checked against party: Republicans' mean xi
must be above Democrats'. A chain that is not (a chain that settled in the reflected
mode) has xi and beta negated (alpha unchanged; the likelihood is unchanged), and the
chain is named in `idata.attrs["reflected_chains"]`.

Coordinates. The sampler moves x = (xi of the free legislators (n - 2), alpha (m),
beta (m)), all unconstrained: the density in x is the model's density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.pca import orient

ANCHOR_VALUES = np.array([1.0, -1.0])  # conservative (Republican) anchor, liberal (Democrat) anchor
REPORTED_VARS = ("xi", "alpha", "beta")


def choose_anchors(matrix: VoteMatrix, pca: np.ndarray) -> np.ndarray:
    """(2,) int64 matrix rows of the anchors: [the Republican with the highest PCA score,
    the Democrat with the lowest], among legislators with Yea/Nay votes on at least half
    the roll calls. A party none of whose members did falls back on its members with the
    most votes.

    pca: (n,) PCA scores in matrix row order (oriented here against party, so a
    reflected input picks the same anchors).
    """
    parties = np.asarray(matrix.legislators["party"])
    pca = orient(np.asarray(pca, float), parties)
    counts = np.isfinite(matrix.votes).sum(axis=1)
    eligible = 2 * counts >= matrix.shape[1]
    rows = []
    for party, pick in (("Republican", np.argmax), ("Democrat", np.argmin)):
        members = parties == party
        candidates = members & eligible
        if not candidates.any():
            candidates = members & (counts == counts[members].max())
        index = np.flatnonzero(candidates)
        rows.append(index[pick(pca[index])])
    return np.array(rows, dtype=np.int64)


@dataclass(frozen=True)
class FlatLayout:
    """The unconstrained vector x the sampler moves (n legislators, m roll calls):
    x[0:n-2] xi of the free legislators (rows `free`, ascending), x[n-2:n-2+m] alpha,
    x[n-2+m:] beta. anchors: (2,) int64 rows held at ANCHOR_VALUES."""

    n_legislators: int
    n_roll_calls: int
    anchors: np.ndarray

    @property
    def free(self) -> np.ndarray:
        return np.setdiff1d(np.arange(self.n_legislators), self.anchors).astype(np.int64)

    @property
    def ndim(self) -> int:
        return self.n_legislators - len(self.anchors) + 2 * self.n_roll_calls

    def slices(self) -> dict[str, slice]:
        k, m = self.n_legislators - len(self.anchors), self.n_roll_calls
        return {"xi_free": slice(0, k), "alpha": slice(k, k + m), "beta": slice(k + m, k + 2 * m)}

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """xi (n,) on the anchored scale, alpha and beta (m,) at unconstrained point x."""
        s = self.slices()
        xi = np.empty(self.n_legislators)
        xi[self.anchors] = ANCHOR_VALUES
        xi[self.free] = x[s["xi_free"]]
        return {"xi": xi, "alpha": x[s["alpha"]].copy(), "beta": x[s["beta"]].copy()}

    def unconstrained(self, start: dict[str, np.ndarray]) -> np.ndarray:
        """x for a start given as `xi` (n,, the anchors' values ignored), `alpha`, `beta`."""
        s = self.slices()
        x = np.empty(self.ndim)
        x[s["xi_free"]] = np.asarray(start["xi"], float)[self.free]
        x[s["alpha"]] = start["alpha"]
        x[s["beta"]] = start["beta"]
        return x


def anchored_from_pca(pca: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """PCA scores moved by an affine map onto the anchored scale: the conservative anchor
    at +1, the liberal one at -1. pca: (n,) oriented scores."""
    pca = np.asarray(pca, float)
    high, low = pca[anchors[0]], pca[anchors[1]]
    if not high > low:  # degenerate PCA: keep its scale, center on the anchors
        return pca - 0.5 * (high + low)
    return (pca - 0.5 * (high + low)) / (0.5 * (high - low))


def start_values(v: np.ndarray, items, rng: np.random.Generator) -> dict:
    """A valid, jittered start for one chain: ideal points at `v` (anchored PCA scores),
    alpha and beta at `items` (from `irt_pipeline.stats.model.item_logits`) jittered."""
    alpha, beta = items
    m = len(alpha)
    return {
        "xi": np.asarray(v, float),
        "alpha": alpha + rng.uniform(-0.5, 0.5, size=m),
        "beta": beta * np.exp(rng.uniform(-0.3, 0.3, size=m)),
    }


def build_flat_model(matrix: VoteMatrix, anchors: np.ndarray):
    """The flat model as a PyMC graph in the sampler's coordinates (value variables
    xi_free, alpha, beta, in layout order). The numba kernel `flat_logp_grad` computes
    the same density faster (tested equal)."""
    import pymc as pm
    import pytensor.tensor as pt

    n, m = matrix.shape
    layout = FlatLayout(n, m, np.asarray(anchors, dtype=np.int64))
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    ids = matrix.legislators["legislator_id"].astype(str).to_numpy()
    coords = {
        "legislator": ids.tolist(),
        "free_legislator": ids[layout.free].tolist(),
        "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        "vote": np.arange(len(rows)),
    }
    fixed = np.zeros(n)
    fixed[layout.anchors] = ANCHOR_VALUES
    with pm.Model(coords=coords) as model:
        xi_free = pm.Normal("xi_free", 0.0, 1.0, dims="free_legislator")
        alpha = pm.Normal("alpha", 0.0, 5.0, dims="roll_call")
        beta = pm.Normal("beta", 0.0, 1.0, dims="roll_call")
        xi = pm.Deterministic(
            "xi", pt.set_subtensor(pt.as_tensor(fixed)[layout.free], xi_free), dims="legislator"
        )
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"), dims="vote",
        )
    return model


def reflected_chains(xi: np.ndarray, parties) -> list[int]:
    """Chains whose Republicans' mean is not above the Democrats'.
    xi: (chains, draws, n); parties: (n,) party names."""
    parties = np.asarray(parties)
    rep = xi[..., parties == "Republican"].mean(axis=(1, 2))
    dem = xi[..., parties == "Democrat"].mean(axis=(1, 2))
    return [int(c) for c in np.flatnonzero(~(rep > dem))]


def orient_chains(idata, parties) -> list[int]:
    """Negate xi and beta of every reflected chain of `idata.posterior`, in place; the
    chains flipped, also stored in idata.attrs["reflected_chains"]. parties: (n,) in
    the posterior's legislator order."""
    post = idata.posterior
    flipped = reflected_chains(post["xi"].values, parties)
    if flipped:
        sign = np.ones(post.sizes["chain"])
        sign[flipped] = -1.0
        for name in ("xi", "beta"):
            factor = post[name].dims.index("chain")
            shape = [1] * post[name].ndim
            shape[factor] = -1
            post[name] = post[name].copy(data=post[name].values * sign.reshape(shape))
    idata.attrs["reflected_chains"] = ",".join(str(c) for c in flipped)
    return flipped


def standardized_xi(idata):
    """A copy of `idata` whose posterior xi is restated per draw as chamber mean 0, sd 1
    (population sd): the hierarchical model's scale. Ranks are unchanged."""
    out = idata.copy()
    xi = out.posterior["xi"]
    out.posterior["xi"] = (xi - xi.mean("legislator")) / xi.std("legislator")
    return out

