"""The statistical peer for `wherry insight demand`'s back-test.

Reads the demand report's CSV (`kind=actual` rows: one series per service
and area, the same months), and back-tests on exactly Wherry's protocol
(crates/wherry-insight/src/forecast.rs): from every origin with at least
12 months behind it, forecasts up to 6 months ahead from that history
alone; each error scaled by the series' in-sample mean absolute one-month
change (series with none are left out); the mean over every series,
origin and step. Methods: statsforecast's AutoETS (season length 12: it
chooses among error, trend and season forms by AICc) and seasonal naive,
recomputed here so that the protocol can be checked against Wherry's own
seasonal-naive figure.

Usage: python demand_peer.py demand.csv
Prints one line per method: `method mase trials`.
"""

import sys
import warnings

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

MIN_TRAIN = 12
HORIZON = 6

warnings.filterwarnings("ignore")


def main(path):
    df = pd.read_csv(path, dtype={"area": str})
    df = df[df["kind"] == "actual"].copy()
    df["unique_id"] = df["service"] + "|" + df["area"]
    months = sorted(df["month"].unique())
    index = {m: i for i, m in enumerate(months)}
    df["t"] = df["month"].map(index)
    wide = df.pivot_table(index="unique_id", columns="t", values="contacts", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=range(len(months)), fill_value=0)
    ids = list(wide.index)
    y = wide.to_numpy(dtype=float)
    ds = pd.date_range(start=months[0] + "-01", periods=len(months), freq="MS")

    errors = {"autoets": [], "seasonal_naive": []}
    for origin in range(MIN_TRAIN, len(months)):
        hist = y[:, :origin]
        scale = np.abs(np.diff(hist, axis=1)).mean(axis=1)
        keep = scale > 0
        if not keep.any():
            continue
        long = pd.DataFrame(
            {
                "unique_id": np.repeat(np.array(ids)[keep], origin),
                "ds": np.tile(ds[:origin], keep.sum()),
                "y": hist[keep].ravel(),
            }
        )
        sf = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=1)
        fc = sf.forecast(df=long, h=HORIZON)
        fc = fc.reset_index() if "unique_id" not in fc.columns else fc
        pred = fc.pivot(index="unique_id", columns="ds", values="AutoETS")
        kept = [i for i, k in enumerate(keep) if k]
        for row in kept:
            uid = ids[row]
            for h in range(1, HORIZON + 1):
                t = origin + h - 1
                if t >= len(months):
                    break
                actual = y[row, t]
                back = 12 - ((h - 1) % 12)
                naive = hist[row, origin - back] if origin >= back else hist[row, origin - 1]
                errors["autoets"].append(abs(actual - pred.loc[uid].iloc[h - 1]) / scale[row])
                errors["seasonal_naive"].append(abs(actual - naive) / scale[row])
    for method, e in errors.items():
        print(f"{method} {np.mean(e):.4f} {len(e)}")


if __name__ == "__main__":
    main(sys.argv[1])
