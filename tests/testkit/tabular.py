"""The tabular models people ship, trained in milliseconds on a synthetic customers table.

The table has what real ones have: numbers with gaps (age), a number without (income), an integer count
(visits), a string column with gaps (city) and string class labels. Each builder returns a fitted model of a
kind the export tests and the serving tests both use; nothing here exports or serves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from xgboost import XGBClassifier, XGBRegressor

CITIES = ["Paris", "Lyon", "Nice", "Lille"]
NUMERIC = ["age", "income", "visits"]
COLUMNS = ["age", "income", "city", "visits"]


def customers(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """The table and its string labels ("churn" / "stay"), which depend on every column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype(float),
            "income": rng.normal(50, 12, rows).round(2),
            "city": rng.choice(CITIES, rows),
            "visits": rng.integers(0, 20, rows),
        }
    )
    score = (frame["income"] - 50) / 12 + (frame["visits"] - 10) / 6 - (frame["age"] - 50) / 30
    score += frame["city"].map({"Paris": 0.8, "Lyon": -0.4, "Nice": 0.2, "Lille": -0.6})
    labels = np.where(score + rng.normal(0, 0.7, rows) > 0, "churn", "stay")
    frame.loc[rng.random(rows) < 0.1, "age"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "city"] = np.nan
    return frame, labels


def spend(frame: pd.DataFrame, seed: int = 1) -> np.ndarray:
    """A regression target over the same table."""
    rng = np.random.default_rng(seed)
    return (frame["income"] * 3 + frame["visits"] * 5 + rng.normal(0, 2, len(frame))).to_numpy()


def imputing_pipeline(frame: pd.DataFrame, labels: np.ndarray, unknown: str = "ignore") -> Pipeline:
    """docs/examples.md's pipeline: numbers imputed and scaled, the city imputed and one-hot encoded."""
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    cities = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="unknown")),
            ("encode", OneHotEncoder(handle_unknown=unknown)),
        ]
    )
    columns = ColumnTransformer([("numbers", numbers, NUMERIC), ("cities", cities, ["city"])])
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=500))]).fit(frame, labels)


def strict_pipeline(frame: pd.DataFrame, labels: np.ndarray) -> Pipeline:
    """No imputer at all, and the city one-hot encoded with handle_unknown="error": nothing may be missing and
    only the cities seen are taken."""
    complete = frame.dropna()
    columns = ColumnTransformer(
        [("numbers", StandardScaler(), NUMERIC), ("cities", OneHotEncoder(handle_unknown="error"), ["city"])]
    )
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=500))])
    return model.fit(complete, labels[complete.index])


def booster_pipeline(frame: pd.DataFrame, labels: np.ndarray, booster: Any) -> Pipeline:
    """A booster behind an OrdinalEncoder for the city: the booster takes missing numbers as they are."""
    encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    columns = ColumnTransformer([("numbers", "passthrough", NUMERIC), ("cities", encode, ["city"])])
    return Pipeline([("columns", columns), ("model", booster)]).fit(frame, labels)


def lightgbm_classifier(frame: pd.DataFrame, labels: np.ndarray) -> Pipeline:
    return booster_pipeline(frame, labels, LGBMClassifier(n_estimators=25, num_leaves=8, verbose=-1))


def xgboost_classifier(frame: pd.DataFrame, labels: np.ndarray) -> Pipeline:
    """XGBoost wants class indices; the pipeline's classes are 0 and 1."""
    return booster_pipeline(frame, (labels == "churn").astype(int), XGBClassifier(n_estimators=25, max_depth=3))


def lightgbm_regressor(frame: pd.DataFrame) -> LGBMRegressor:
    """A booster alone, fitted on the numeric columns of the DataFrame."""
    return LGBMRegressor(n_estimators=25, num_leaves=8, verbose=-1).fit(frame[NUMERIC], spend(frame))


def xgboost_regressor(frame: pd.DataFrame) -> XGBRegressor:
    return XGBRegressor(n_estimators=25, max_depth=3).fit(frame[NUMERIC], spend(frame))
