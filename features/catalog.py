"""The feature catalog: ``features.yaml`` loaded, validated and resolved by name.

A feature is named ``<set>.<column>`` (``user_engagement.views_7d``). Model configs list these
names; :meth:`Catalog.resolve` maps them back to the sets and columns that provide them, and
:meth:`Catalog.validate_model` fails on unknown names the way metarank's config check does.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from features.errors import ConfigError

__all__ = ["CATALOG_PATH", "SQL_DIR", "ColumnSpec", "FeatureSet", "Catalog", "load_catalog"]

CATALOG_PATH = Path(__file__).with_name("features.yaml")
SQL_DIR = Path(__file__).with_name("sql")
_WINDOW = re.compile(r"^(\d+)([hd])$")


class ColumnSpec(BaseModel):
    """Checks for one output column (``{w}`` in its name expands over the set's windows)."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    not_null: bool = False
    min: float | None = None
    max: float | None = None
    accepted_values: list[Any] | None = None


class FeatureSet(BaseModel):
    """One feature set: a SQL file, its entity key, windows, parameters and column checks."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    description: str
    key: list[str]
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    windows: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    params: dict[str, float | int | str] = Field(default_factory=dict)
    personal: bool = False
    """Honours user resets: the user's events before the latest reset are ignored."""
    materialized: Literal["table", "view", "partial"] = "table"
    """``view``: an inlined staging step (a TEMP VIEW, never materialised nor returned).
    ``partial``: partial aggregates kept between runs and refreshed where new events land
    (per entity and ``bucket``, or one row per session); the public sets are computed from them."""

    @model_validator(mode="after")
    def _check_windows(self) -> FeatureSet:
        bad = [w for w in self.windows if not _WINDOW.match(w)]
        if bad:
            raise ValueError(f"windows must look like '7d' or '12h', got {bad}")
        return self

    @property
    def table(self) -> str:
        return f"feat_{self.name}"

    @property
    def sql_path(self) -> Path:
        return SQL_DIR / f"{self.name}.sql"

    def expanded_columns(self) -> dict[str, ColumnSpec]:
        """Every output column (keys first) with its checks, windows expanded."""
        out = {k: ColumnSpec(not_null=True, description="key") for k in self.key}
        for name, spec in self.columns.items():
            names = [name.format(w=w) for w in self.windows] if "{w}" in name else [name]
            out.update({n: spec for n in names})
        return out


class Catalog(BaseModel):
    """The whole catalog: global parameters and feature sets in dependency order."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    params: dict[str, float | int | str] = Field(default_factory=dict)
    sets: dict[str, FeatureSet]

    @model_validator(mode="after")
    def _check_refs(self) -> Catalog:
        for name, fs in self.sets.items():
            fs.name = name
            missing = [d for d in fs.depends_on if d not in self.sets]
            if missing:
                raise ValueError(f"set '{name}' depends on unknown set(s) {missing}")
        return self

    def order(self, names: list[str] | None = None) -> list[FeatureSet]:
        """The named sets plus everything they depend on, dependencies first."""
        unknown = [n for n in names or [] if n not in self.sets]
        if unknown:
            raise ConfigError(f"unknown feature set(s) {unknown}; known: {sorted(self.sets)}")
        seen: list[str] = []

        def visit(n: str, path: tuple[str, ...]) -> None:
            if n in path:
                raise ConfigError(f"dependency cycle: {' -> '.join(path + (n,))}")
            for d in self.sets[n].depends_on:
                visit(d, path + (n,))
            if n not in seen:
                seen.append(n)

        for n in names if names is not None else list(self.sets):
            visit(n, ())
        return [self.sets[n] for n in seen]

    def feature_names(self) -> list[str]:
        """Every public feature name ``set.column`` (keys and staging sets excluded)."""
        return [
            f"{fs.name}.{c}"
            for fs in self.sets.values()
            if fs.materialized == "table" and not fs.name.startswith("stg_")
            for c in fs.expanded_columns()
            if c not in fs.key
        ]

    def resolve(self, names: list[str], model: str = "model") -> dict[str, list[str]]:
        """Map feature names to ``{set: [columns]}``.

        Args:
            names: ``set.column``, a bare set name (all its features) or a bare column name
                that only one set provides.
            model: the model that references them, for the error message.

        Raises:
            ConfigError: a name is unknown or ambiguous; the message names it.
        """
        known = self.feature_names()
        by_col: dict[str, list[str]] = {}
        for f in known:
            s, c = f.split(".", 1)
            by_col.setdefault(c, []).append(s)
        out: dict[str, list[str]] = {}
        for name in names:
            if name in known:
                s, c = name.split(".", 1)
                picked = [(s, c)]
            elif name in self.sets and any(f.startswith(f"{name}.") for f in known):
                picked = [tuple(f.split(".", 1)) for f in known if f.startswith(f"{name}.")]
            elif len(by_col.get(name, [])) == 1:
                picked = [(by_col[name][0], name)]
            elif name in by_col:
                options = [f"{s}.{name}" for s in by_col[name]]
                raise ConfigError(
                    f"feature '{name}' referenced in model '{model}' is ambiguous: "
                    f"use one of {options}"
                )
            else:
                raise ConfigError(
                    f"feature '{name}' referenced in model '{model}' but missing in the catalog"
                )
            for s, c in picked:
                cols = out.setdefault(s, [])
                if c not in cols:
                    cols.append(c)
        return out

    def validate_model(self, model: str, names: list[str]) -> None:
        """Fail when a model config references feature names the catalog lacks."""
        self.resolve(names, model=model)


@functools.lru_cache(maxsize=8)
def _parse(path: str, mtime_ns: int, size: int) -> object:
    """The yaml of ``path`` as of this modification time and size (parsed once: every fit and
    every model config resolves feature names against it)."""
    del mtime_ns, size  # part of the cache key only
    return yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_catalog(path: str | Path = CATALOG_PATH, check_sql: bool = True) -> Catalog:
    """Load and validate a catalog yaml (sets, references, windows and SQL files).

    Args:
        path: the yaml file (default: the package's ``features.yaml``).
        check_sql: also require ``sql/<set>.sql`` for every set.

    Raises:
        ConfigError: the yaml does not validate; the message says which entry and why.
    """
    try:
        st = Path(path).stat()
        raw = copy.deepcopy(_parse(str(Path(path).resolve()), st.st_mtime_ns, st.st_size))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read feature catalog {path}: {exc}") from exc
    try:
        cat = Catalog.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"feature catalog {path} does not validate:\n{exc}") from exc
    missing = [fs.name for fs in cat.sets.values() if not fs.sql_path.exists()]
    if missing and check_sql:
        raise ConfigError(f"feature set(s) {missing} declared in {path} have no file in {SQL_DIR}")
    return cat
