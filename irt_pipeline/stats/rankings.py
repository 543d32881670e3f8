"""Rank legislators by posterior mean ideal point (1 = most conservative), with the 94%
interval of each one's rank: the legislators are ranked in every draw, and the interval
is the 94% HDI of a legislator's ranks over the draws ("is she really the 3rd most
conservative?": her rank lies in [2, 5] with 94% probability)."""

from __future__ import annotations

import numpy as np
import pandas as pd

HDI_PROB = 0.94
RANKING_COLUMNS = [
    "legislator_id",
    "name",
    "party",
    "xi_mean",
    "xi_sd",
    "xi_hdi_low",
    "xi_hdi_high",
    "rank",
    "rank_hdi_low",
    "rank_hdi_high",
]


def posterior_legislators(idata) -> pd.DataFrame:
    """legislator_id, legislator_name, party, as stored with a posterior (constant data)."""
    constant = idata.constant_data
    return pd.DataFrame(
        {
            "legislator_id": constant["legislator"].values.astype(str),
            "legislator_name": constant["legislator_name"].values.astype(str),
            "party": constant["party"].values.astype(str),
        }
    )


def rank_legislators(idata, legislators: pd.DataFrame) -> pd.DataFrame:
    """One row per legislator: posterior mean, sd and 94% HDI of xi, and the rank; a
    posterior with a second dimension (xi_2) gets `rank_legislators_2d`'s table.

    legislators: legislator_id, legislator_name, party (any order; matched on id).
    xi is on the model's reported scale (standardized: chamber mean 0, sd 1).
    """
    if "xi_2" in idata.posterior:
        return rank_legislators_2d(idata, legislators)
    return _rank_dim_1(idata, legislators)


def rank_draws(xi: np.ndarray) -> np.ndarray:
    """(draws, n) positions -> (draws, n) ranks in each draw, 1 = the highest."""
    order = np.argsort(-xi, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, xi.shape[1] + 1)[None, :], axis=1)
    return ranks


def rank_intervals(xi: np.ndarray, prob: float = HDI_PROB) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), each (n,) int: the `prob` HDI of every legislator's rank over the
    draws of xi (draws, n) (the narrowest range of ranks holding `prob` of the draws)."""
    import arviz as az

    bounds = az.hdi(rank_draws(xi).astype(float)[None, ...], hdi_prob=prob)  # (n, 2)
    return np.rint(bounds[:, 0]).astype(int), np.rint(bounds[:, 1]).astype(int)


def _rank_dim_1(idata, legislators: pd.DataFrame) -> pd.DataFrame:
    """`rank_legislators`' table of dim 1 (xi)."""
    import arviz as az

    xi = idata.posterior["xi"]
    ids = [str(v) for v in xi["legislator"].values]
    hdi = az.hdi(idata, var_names=["xi"], hdi_prob=HDI_PROB)["xi"]
    info = legislators.assign(legislator_id=legislators["legislator_id"].astype(str))
    info = info.set_index("legislator_id").loc[ids]
    out = pd.DataFrame(
        {
            "legislator_id": ids,
            "name": info["legislator_name"].to_numpy(),
            "party": info["party"].to_numpy(),
            "xi_mean": xi.mean(("chain", "draw")).values,
            "xi_sd": xi.std(("chain", "draw")).values,
            "xi_hdi_low": hdi.sel(hdi="lower").values,
            "xi_hdi_high": hdi.sel(hdi="higher").values,
        }
    )
    out["rank_hdi_low"], out["rank_hdi_high"] = rank_intervals(xi.stack(sample=("chain", "draw")).transpose("sample", "legislator").values)
    out = out.sort_values("xi_mean", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out[RANKING_COLUMNS]


RANKING_COLUMNS_2D = [
    *RANKING_COLUMNS[:7],
    "xi_2_mean",
    "xi_2_sd",
    "xi_2_hdi_low",
    "xi_2_hdi_high",
    *RANKING_COLUMNS[7:],
]


def rank_legislators_2d(idata, legislators: pd.DataFrame) -> pd.DataFrame:
    """The two-dimensional model's table: `rank_legislators`' columns for dim 1 (xi;
    rank 1 = most conservative on dim 1) and the posterior mean, sd and 94% HDI of
    dim 2 (xi_2), one row per legislator in rank order. Both on the model's scale: dim 1
    standardized (chamber mean 0, sd 1 in every draw); dim 2 chamber mean 0, its sd held
    near 1 by its prior, not fixed (the posterior's `dim_2_spread`,
    stats/models/two_dimensional.py)."""
    import arviz as az

    table = _rank_dim_1(idata, legislators)
    xi_2 = idata.posterior["xi_2"]
    hdi = az.hdi(idata, var_names=["xi_2"], hdi_prob=HDI_PROB)["xi_2"]
    second = pd.DataFrame(
        {
            "xi_2_mean": xi_2.mean(("chain", "draw")).values,
            "xi_2_sd": xi_2.std(("chain", "draw")).values,
            "xi_2_hdi_low": hdi.sel(hdi="lower").values,
            "xi_2_hdi_high": hdi.sel(hdi="higher").values,
        },
        index=[str(v) for v in xi_2["legislator"].values],
    )
    return table.join(second, on="legislator_id")[RANKING_COLUMNS_2D]
