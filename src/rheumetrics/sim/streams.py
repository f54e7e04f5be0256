"""Per-replicate random streams drawn together.

Every replicate has its own NumPy generator, spawned from one seed with
:class:`numpy.random.SeedSequence` (O'Neill ME, PCG, 2014; NumPy "Parallel random number
generation"), so a replicate's draws never depend on which other replicates share its batch or on
how many workers run the batches. A :class:`Streams` draws for all replicates of a batch at once,
each from its own generator, and returns one flat array (replicate-major).

>>> batch = Streams.from_seed(7, replicates=range(3), patients=2).random()
>>> batch.shape
(6,)
>>> alone = Streams.from_seed(7, replicates=[1], patients=2).random()
>>> bool((alone == batch[2:4]).all())   # replicate 1 draws the same alone or in a batch
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np


def replicate_seeds(seed: int, replicates: Iterable[int]) -> list[np.random.SeedSequence]:
    """The seed sequence of each replicate: child ``r`` of ``SeedSequence(seed)``."""
    wanted = list(replicates)
    children = np.random.SeedSequence(seed).spawn(max(wanted) + 1 if wanted else 0)
    return [children[r] for r in wanted]


@dataclass
class Streams:
    """One generator per replicate, each drawing ``patients`` values per call."""

    generators: list[np.random.Generator]
    patients: int

    @classmethod
    def from_seed(
        cls, seed: int, replicates: Iterable[int], patients: int, arm: int = 0
    ) -> Streams:
        """Streams of the given replicates for one arm (arms get independent children)."""
        gens = [
            np.random.default_rng(s.spawn(arm + 1)[arm]) for s in replicate_seeds(seed, replicates)
        ]
        return cls(gens, patients)

    def _draw(self, fn: Callable[..., np.ndarray], *args: np.ndarray | float) -> np.ndarray:
        k = len(self.generators)
        shape = (k, self.patients)
        split = [
            np.broadcast_to(np.asarray(a, dtype=float), (k * self.patients,)).reshape(shape)
            for a in args
        ]
        rows = [fn(g, *(s[i] for s in split)) for i, g in enumerate(self.generators)]
        return np.concatenate(rows) if rows else np.empty(0)

    def random(self) -> np.ndarray:
        return self._draw(lambda g: g.random(self.patients))

    def normal(self, loc: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
        return self._draw(lambda g, m, s: g.normal(m, s), loc, scale)

    def poisson(self, lam: np.ndarray | float) -> np.ndarray:
        return self._draw(lambda g, m: g.poisson(m), lam)

    def exponential(self, scale: np.ndarray | float) -> np.ndarray:
        return self._draw(lambda g, s: g.exponential(s), scale)

    def beta(self, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
        return self._draw(lambda g, x, y: g.beta(x, y), a, b)

    def choice(self, shares: list[float]) -> np.ndarray:
        """Category codes 0..len(shares)-1 drawn with the given shares."""
        cum = np.cumsum(shares)
        return np.minimum(np.searchsorted(cum, self.random(), side="right"), len(shares) - 1)
